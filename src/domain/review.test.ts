import { describe, expect, it } from 'vitest';
import type { AppError } from './errors.js';
import type { Principal } from './identity.js';
import type { Review, ReviewState } from './review.js';
import { approversCounted, checkReviewer, reviewerStanding, reviewOutcome } from './review.js';

const parties = { requester: 'deploy-bot', owner: 'carol@example.com', onBehalfOf: 'dave@example.com' };
const state = (reviews: Review[] = []): ReviewState => ({
  requirements: [{ ruleId: 'releases', approvers: ['group:release'], quorum: 2, timeoutMs: 60_000 }],
  reviews,
  expiresAt: '2030-01-01T00:00:00.000Z',
});
const human = (id: string, groups: string[] = ['release']): Principal => ({ type: 'human', id, groups });
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as AppError).code;
  }
  return 'OK';
};
const approval = (reviewer: string, fingerprint = 'fp', groups = ['release']): Review => ({
  reviewer,
  groups,
  verdict: 'approve',
  fingerprint,
  via: 'api',
  at: 't',
  countsFor: ['releases'],
});

describe('separation of duties', () => {
  it('the standing a view shows is the refusal a decision gets, check by check, in the same order', () => {
    const agent: Principal = { type: 'agent', id: 'x', owner: 'o', labels: {} };
    const cases: Array<[Principal, ReviewState, boolean]> = [
      [agent, state(), true],
      [human('carol@example.com'), state(), true],
      [human('frank@example.com', ['oncall']), state(), true],
      [human('erin@example.com'), state(), false],
      [human('erin@example.com'), state([approval('erin@example.com')]), true],
      [human('erin@example.com'), state(), true],
      // Both a party and not pending: the identity check comes first.
      [human('carol@example.com'), state(), false],
    ];
    const standings = cases.map(([who, st, pending]) => {
      const s = reviewerStanding(who, parties, st, pending);
      return s.ok ? 'OK' : s.code;
    });
    expect(standings).toEqual(['AGENT_CANNOT_REVIEW', 'SELF_APPROVAL', 'NOT_ELIGIBLE', 'NOT_PENDING', 'ALREADY_REVIEWED', 'OK', 'SELF_APPROVAL']);
    expect(cases.map(([who, st, pending]) => code(() => checkReviewer(who, parties, st, pending)))).toEqual(standings);
  });

  it('agents never review, whatever they are named', () => {
    expect(code(() => checkReviewer({ type: 'agent', id: 'x', owner: 'o', labels: {} }, parties, state(), true))).toBe('AGENT_CANNOT_REVIEW');
  });

  it('the agent\'s owner cannot approve the agent\'s action, even in the approving group', () => {
    expect(code(() => checkReviewer(human('carol@example.com'), parties, state(), true))).toBe('SELF_APPROVAL');
    expect(code(() => checkReviewer(human('CAROL@example.com'), parties, state(), true))).toBe('SELF_APPROVAL');
  });

  it('the human the agent acts for cannot approve', () => {
    expect(code(() => checkReviewer(human('dave@example.com', ['release', 'admin']), parties, state(), true))).toBe('SELF_APPROVAL');
  });

  it('a human requester cannot approve their own action', () => {
    expect(code(() => checkReviewer(human('erin@example.com'), { requester: 'erin@example.com' }, state(), true))).toBe('SELF_APPROVAL');
  });

  it('a human outside the named groups is not eligible', () => {
    expect(code(() => checkReviewer(human('frank@example.com', ['oncall']), parties, state(), true))).toBe('NOT_ELIGIBLE');
  });

  it('a human named by user: is eligible without the group', () => {
    const s = state();
    s.requirements[0]!.approvers = ['user:Frank@Example.com'];
    expect(code(() => checkReviewer(human('frank@example.com', []), parties, s, true))).toBe('OK');
  });

  it('escalation targets become eligible only once escalated', () => {
    const s = state();
    s.requirements[0]!.escalate = { afterMs: 1, to: ['group:oncall'], at: 't', done: false };
    expect(code(() => checkReviewer(human('olga@example.com', ['oncall']), parties, s, true))).toBe('NOT_ELIGIBLE');
    s.requirements[0]!.escalate.done = true;
    expect(code(() => checkReviewer(human('olga@example.com', ['oncall']), parties, s, true))).toBe('OK');
  });

  it('a second review by the same human is refused', () => {
    expect(code(() => checkReviewer(human('ALICE@example.com'), parties, state([approval('alice@example.com')]), true))).toBe('ALREADY_REVIEWED');
  });

  it('a closed action is refused after identity checks', () => {
    expect(code(() => checkReviewer(human('alice@example.com'), parties, state(), false))).toBe('NOT_PENDING');
    expect(code(() => checkReviewer(human('carol@example.com'), parties, state(), false))).toBe('SELF_APPROVAL');
  });
});

describe('quorum', () => {
  it('counts distinct humans approving the stored fingerprint', () => {
    const req = state().requirements[0]!;
    expect(approversCounted(req, [approval('a@x'), approval('A@X'), approval('b@x', 'other-fp')], 'fp', parties)).toEqual(['a@x']);
    expect(reviewOutcome(state([approval('a@x')]), 'fp', parties)).toBe('pending');
    expect(reviewOutcome(state([approval('a@x'), approval('b@x')]), 'fp', parties)).toBe('approved');
  });

  it('never counts a party, even if a record claims it', () => {
    expect(reviewOutcome(state([approval('a@x'), approval('carol@example.com')]), 'fp', parties)).toBe('pending');
  });

  it('never counts approvals from humans outside the requirement', () => {
    expect(reviewOutcome(state([approval('a@x'), approval('b@x', 'fp', ['oncall'])]), 'fp', parties)).toBe('pending');
  });

  it('counts an approval only for the requirements it was given for, even once an escalation names the approver', () => {
    // Bob (release and oncall) approved for "releases" while "prod" was still oncall-free.
    const s = state([approval('a@x'), { ...approval('b@x', 'fp', ['release', 'oncall']), countsFor: ['releases'] }]);
    s.requirements.push({ ruleId: 'prod', approvers: ['group:sre'], quorum: 1, timeoutMs: 1, escalate: { afterMs: 1, to: ['group:oncall'], at: 't', done: true } });
    expect(approversCounted(s.requirements[1]!, s.reviews, 'fp', parties)).toEqual([]);
    expect(reviewOutcome(s, 'fp', parties)).toBe('pending');
    s.reviews.push({ ...approval('c@x', 'fp', ['oncall']), countsFor: ['prod'] });
    expect(approversCounted(s.requirements[1]!, s.reviews, 'fp', parties)).toEqual(['c@x']);
    expect(reviewOutcome(s, 'fp', parties)).toBe('approved');
  });

  it('all requirements must be met', () => {
    const s = state([approval('a@x'), approval('b@x')]);
    s.requirements.push({ ruleId: 'prod', approvers: ['group:oncall'], quorum: 1, timeoutMs: 1 });
    expect(reviewOutcome(s, 'fp', parties)).toBe('pending');
    s.reviews.push({ ...approval('c@x', 'fp', ['oncall']), countsFor: ['prod'] });
    expect(reviewOutcome(s, 'fp', parties)).toBe('approved');
  });

  it('one eligible deny denies', () => {
    const deny: Review = { reviewer: 'z@x', groups: ['release'], verdict: 'deny', via: 'api', at: 't', countsFor: ['releases'] };
    expect(reviewOutcome(state([approval('a@x'), approval('b@x'), deny]), 'fp', parties)).toBe('denied');
  });
});
