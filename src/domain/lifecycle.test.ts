import { describe, expect, it } from 'vitest';
import type { ActionRecord } from './action-record.js';
import type { AppError } from './errors.js';
import type { Principal } from './identity.js';
import { applyReview, cancelAction, createAction, escalateAction, expireAction, finishExecution, interruptExecution, runnerIsGone, startExecution } from './lifecycle.js';
import type { Decision } from './policy-types.js';
import { STATUSES, canTransition } from './status.js';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const agent: Principal = { type: 'agent', id: 'deploy-bot', owner: 'carol@example.com', labels: {} };
const alice: Principal = { type: 'human', id: 'alice@example.com', groups: ['release'] };
const bob: Principal = { type: 'human', id: 'bob@example.com', groups: ['release', 'oncall'] };
const olga: Principal = { type: 'human', id: 'olga@example.com', groups: ['oncall'] };
const runner = { host: 'h', pid: 1, instance: 'i', leaseUntil: at(120_000).toISOString() };

const review: Decision = {
  outcome: 'review',
  rules: ['releases'],
  policyVersion: 'sha256:p',
  reason: 'r',
  requirements: [{ ruleId: 'releases', approvers: ['group:release'], quorum: 2, timeoutMs: 30 * 60_000, escalate: { afterMs: 10 * 60_000, to: ['group:oncall'] } }],
};
const allow: Decision = { outcome: 'allow', rules: ['reads'], policyVersion: 'sha256:p', reason: 'r', requirements: [] };

function make(decision: Decision, mode: 'execute' | 'decide' = 'execute'): ActionRecord {
  return createAction({
    id: 'act_1',
    request: { kind: 'http', target: 'github', input: { method: 'POST', path: '/r', headers: { Authorization: 'Bearer agent-secret' } }, mode },
    requester: { id: agent.id, type: 'agent', owner: (agent as { owner: string }).owner },
    decision,
    now: t0,
  }).next;
}
const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'OK';
  } catch (e) {
    return (e as AppError).code;
  }
};

describe('the action lifecycle', () => {
  it('allowed actions start approved; reviewed ones pending with their requirements and expiry', () => {
    expect(make(allow).status).toBe('approved');
    const a = make(review);
    expect(a.status).toBe('pending');
    expect(a.review?.expiresAt).toBe(at(30 * 60_000).toISOString());
    expect(a.nextEscalationAt).toBe(at(10 * 60_000).toISOString());
  });

  it('records submitted and decided entries, without the agent\'s credential header', () => {
    const t = createAction({ id: 'act_1', request: { kind: 'http', target: 'g', input: { method: 'GET', path: '/', headers: { Authorization: 'Bearer s3cr3t-token' } } }, requester: { id: 'b', type: 'agent' }, decision: allow, now: t0 });
    expect(t.audit.map((d) => d.type)).toEqual(['action.submitted', 'action.decided']);
    expect(JSON.stringify(t.audit)).not.toContain('s3cr3t-token');
  });

  it('two distinct approvals approve; each one bumps the version', () => {
    const a = make(review);
    const one = applyReview(a, alice, 'approve', { fingerprint: a.fingerprint, via: 'api', now: at(1) });
    expect(one.next.status).toBe('pending');
    expect(one.next.version).toBe(2);
    const two = applyReview(one.next, bob, 'approve', { fingerprint: a.fingerprint, via: 'api', now: at(2) });
    expect(two.next.status).toBe('approved');
    expect(two.audit[0]).toMatchObject({ type: 'action.reviewed', data: { reviewer: 'bob@example.com', outcome: 'approved' } });
  });

  it('an approval naming another fingerprint is refused', () => {
    const a = make(review);
    expect(codeOf(() => applyReview(a, alice, 'approve', { fingerprint: `sha256:${'0'.repeat(64)}`, via: 'api', now: at(1) }))).toBe('FINGERPRINT_MISMATCH');
  });

  it('an expired request cannot be approved', () => {
    const a = make(review);
    expect(codeOf(() => applyReview(a, alice, 'approve', { fingerprint: a.fingerprint, via: 'api', now: at(31 * 60_000) }))).toBe('NOT_PENDING');
    expect(expireAction(a, at(30 * 60_000)).next.status).toBe('expired');
    expect(codeOf(() => expireAction(a, at(1)))).toBe('NOT_PENDING');
  });

  it('escalation makes the escalation targets eligible and is recorded', () => {
    const a = make(review);
    expect(codeOf(() => applyReview(a, olga, 'approve', { fingerprint: a.fingerprint, via: 'api', now: at(1) }))).toBe('NOT_ELIGIBLE');
    const e = escalateAction(a, at(10 * 60_000));
    expect(e.escalated).toHaveLength(1);
    expect(e.next.nextEscalationAt).toBeUndefined();
    expect(e.audit[0]).toMatchObject({ type: 'action.escalated', data: { ruleId: 'releases', to: ['group:oncall'] } });
    expect(applyReview(e.next, olga, 'approve', { fingerprint: a.fingerprint, via: 'api', now: at(10 * 60_000 + 1) }).next.review?.reviews).toHaveLength(1);
  });

  it('only the requester cancels, only while pending', () => {
    const a = make(review);
    expect(codeOf(() => cancelAction(a, alice, at(1)))).toBe('NOT_REQUESTER');
    const c = cancelAction(a, agent, at(1)).next;
    expect(c.status).toBe('cancelled');
    expect(codeOf(() => cancelAction(c, agent, at(2)))).toBe('NOT_PENDING');
    expect(codeOf(() => applyReview(c, alice, 'approve', { fingerprint: a.fingerprint, via: 'api', now: at(2) }))).toBe('NOT_PENDING');
  });

  it('runs once: approved → running → succeeded, and never again', () => {
    const a = make(allow);
    const r = startExecution(a, at(1), runner).next;
    expect(r.status).toBe('running');
    expect(codeOf(() => startExecution(r, at(2), runner))).toBe('NOT_PENDING');
    const done = finishExecution(r, { ok: true, status: 201 }, at(3)).next;
    expect(done.status).toBe('succeeded');
    expect(done.result?.runner).toBeUndefined();
    expect(codeOf(() => startExecution(done, at(4), runner))).toBe('NOT_PENDING');
  });

  it('decide-mode actions are never run by the gateway', () => {
    expect(codeOf(() => startExecution(make(allow, 'decide'), at(1), runner))).toBe('NOT_PENDING');
  });

  it('an interrupted execution fails with reason interrupted', () => {
    const r = startExecution(make(allow), at(1), runner).next;
    const i = interruptExecution(r, at(2));
    expect(i.next.status).toBe('failed');
    expect(i.next.result?.reason).toBe('interrupted');
    expect(i.audit[0]).toMatchObject({ type: 'execution.finished', data: { outcome: 'failed', reason: 'interrupted' } });
  });

  it('a runner is gone when its lease ran out or its process died on this host', () => {
    const r = startExecution(make(allow), at(1), runner).next;
    const here = (alive: boolean, host = 'h', pid = 2, instance = 'j') => ({ host, pid, instance, isAlive: () => alive });
    expect(runnerIsGone(r, at(2), here(true))).toBe(false);
    expect(runnerIsGone(r, at(2), here(false))).toBe(true);
    expect(runnerIsGone(r, at(2), here(false, 'other-host'))).toBe(false);
    expect(runnerIsGone(r, at(120_000), here(true))).toBe(true);
    // A restarted container: same host, same pid, another process.
    expect(runnerIsGone(r, at(2), here(true, 'h', 1, 'j'))).toBe(true);
    expect(runnerIsGone(r, at(2), here(true, 'h', 1, 'i'))).toBe(false);
  });

  it('closed statuses have no way out', () => {
    for (const from of ['denied', 'expired', 'cancelled', 'succeeded', 'failed'] as const) {
      for (const to of STATUSES) expect(canTransition(from, to)).toBe(false);
    }
  });
});
