import { describe, expect, it } from 'vitest';
import { isAppError } from './errors.js';
import type { Parties, ReviewState } from './review.js';
import { checkReviewer, isParty, reviewOutcome } from './review.js';

// Edges the mutation campaign found unpinned.
const state = (reviews: ReviewState['reviews'] = []): ReviewState => ({
  requirements: [{ ruleId: 'r', approvers: ['group:ops'], quorum: 1, timeoutMs: 1000 }],
  reviews,
  expiresAt: '2099-01-01T00:00:00.000Z',
});
const fp = `sha256:${'a'.repeat(64)}`;

function refusal(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isAppError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('separation of duties and quorum, edges', () => {
  it('an action submitted by a human (no owner) is reviewable by someone else, and never by its requester', () => {
    const parties: Parties = { requester: 'dana@example.com' };
    expect(isParty('erin@example.com', parties)).toBe(false);
    expect(isParty('DANA@example.com', parties)).toBe(true);
    expect(checkReviewer({ type: 'human', id: 'erin@example.com', groups: ['ops'] }, parties, state(), true).countsFor).toEqual(['r']);
  });

  it('says why a party or an outsider may not review', () => {
    const parties: Parties = { requester: 'bot', owner: 'olga@example.com' };
    expect(refusal(() => checkReviewer({ type: 'human', id: 'olga@example.com', groups: ['ops'] }, parties, state(), true))).toEqual({
      code: 'SELF_APPROVAL',
      message: "Separation of duties: the requester, the human it acts for and the agent's owner cannot review this action",
    });
    expect(refusal(() => checkReviewer({ type: 'human', id: 'mallory@example.com', groups: ['sales'] }, parties, state(), true))).toEqual({
      code: 'NOT_ELIGIBLE',
      message: "Not an eligible reviewer: the action's requirements name neither you nor a group of yours",
    });
  });

  it('a stored deny that counted for no requirement denies nothing', () => {
    const deny = { reviewer: 'x@example.com', groups: [], verdict: 'deny' as const, via: 'api', at: '2030-01-01T00:00:00.000Z', countsFor: [] };
    expect(reviewOutcome(state([deny]), fp, { requester: 'bot' })).toBe('pending');
  });
});
