import type { ActionRecord } from './action-record.js';
import type { ErrorCode } from './errors.js';
import { ERROR_CODES } from './errors.js';
import type { Principal } from './identity.js';
import { partiesOf } from './lifecycle.js';
import { approversCounted, eligibleRefs, reviewerStanding } from './review.js';

/** Why this human cannot decide this action now (the review rules' own refusal), or undefined when they can. */
export function reviewBlock(who: Principal, a: ActionRecord): { code: ErrorCode; message: string } | undefined {
  if (!a.review) return { code: 'NOT_PENDING', message: 'Policy decided this action; there is nothing to review.' };
  // The same check a decision runs, returned rather than thrown: the console asks it for every row it shows.
  const s = reviewerStanding(who, partiesOf(a), a.review, a.status === 'pending');
  return s.ok ? undefined : { code: s.code, message: s.message ?? ERROR_CODES[s.code].message };
}

/** Who may still decide: the approver references of every requirement not yet met (escalation targets once escalated). */
export function stillNeeded(a: ActionRecord): Array<{ ruleId: string; approved: number; quorum: number; refs: string[] }> {
  if (!a.review) return [];
  const parties = partiesOf(a);
  return a.review.requirements.map((q) => ({
    ruleId: q.ruleId,
    approved: approversCounted(q, a.review!.reviews, a.fingerprint, parties).length,
    quorum: q.quorum,
    refs: eligibleRefs(q),
  }));
}
