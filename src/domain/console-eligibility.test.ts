import { describe, expect, it } from 'vitest';
import type { ActionRecord } from './action-record.js';
import { isAppError } from './errors.js';
import type { Principal } from './identity.js';
import { applyReview, createAction } from './lifecycle.js';
import type { Decision } from './policy-types.js';
import { reviewBlock } from './console-eligibility.js';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const agent: Principal = { type: 'agent', id: 'deploy-bot', owner: 'carol@example.com', labels: {} };
const human = (id: string, groups: string[]): Principal => ({ type: 'human', id, groups });
const decision = (outcome: 'review' | 'allow'): Decision => ({
  outcome,
  rules: ['releases'],
  policyVersion: 'sha256:p',
  reason: 'r',
  requirements: outcome === 'review' ? [{ ruleId: 'releases', approvers: ['group:release'], quorum: 2, timeoutMs: 60_000 }] : [],
});
const make = (outcome: 'review' | 'allow'): ActionRecord =>
  createAction({
    id: 'act_1',
    request: { kind: 'http', target: 'github', input: { method: 'POST', path: '/r' }, mode: 'execute' },
    requester: { id: agent.id, type: 'agent', owner: 'carol@example.com' },
    decision: decision(outcome),
    now: t0,
  }).next;

/** What a decision by `who` would be refused with, as the review path throws it. */
function refusal(who: Principal, a: ActionRecord): { code: string; message: string } | undefined {
  try {
    applyReview(a, who, 'approve', { fingerprint: a.fingerprint, via: 'console', now: t0 });
    return undefined;
  } catch (e) {
    if (isAppError(e)) return { code: e.code, message: e.message };
    throw e;
  }
}

describe('reviewBlock: what the console shows about deciding an action', () => {
  it('gives the code and message a decision would be refused with, and nothing when it would be accepted', () => {
    const pending = make('review');
    const reviewed = applyReview(pending, human('alice@example.com', ['release']), 'approve', { fingerprint: pending.fingerprint, via: 'api', now: t0 }).next;
    const cases: Array<[Principal, ActionRecord, string | undefined]> = [
      [agent, pending, 'AGENT_CANNOT_REVIEW'],
      [human('carol@example.com', ['release']), pending, 'SELF_APPROVAL'],
      [human('olga@example.com', ['oncall']), pending, 'NOT_ELIGIBLE'],
      [human('alice@example.com', ['release']), reviewed, 'ALREADY_REVIEWED'],
      [human('bob@example.com', ['release']), { ...pending, status: 'cancelled' }, 'NOT_PENDING'],
      [human('bob@example.com', ['release']), reviewed, undefined],
    ];
    for (const [who, a, code] of cases) {
      const block = reviewBlock(who, a);
      expect(block?.code, `${who.id} on ${a.status}`).toBe(code);
      expect(block, `${who.id} on ${a.status}`).toEqual(refusal(who, a));
      if (block) expect(block.message.length).toBeGreaterThan(10);
    }
  });

  it('says policy decided an action that needed no review', () => {
    expect(reviewBlock(human('bob@example.com', ['release']), make('allow'))).toEqual({ code: 'NOT_PENDING', message: 'Policy decided this action; there is nothing to review.' });
  });
});
