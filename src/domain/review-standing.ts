import type { ActionRecord } from './action-record.js';
import type { Principal } from './identity.js';
import { partiesOf } from './lifecycle.js';
import { reviewerStanding } from './review.js';

/** Whether the viewer may decide this action now, and if not, the code a decision would be refused with. */
export interface ReviewStanding {
  canDecide: boolean;
  reason?: string;
}

/**
 * The viewer's standing on a pending action, judged by the same check a decision runs
 * (reviewerStanding, which checkReviewer throws), so that what `pending` lists and what
 * `approve` accepts cannot differ.
 */
export function reviewStanding(who: Principal, a: ActionRecord): ReviewStanding | undefined {
  if (!a.review) return undefined;
  const s = reviewerStanding(who, partiesOf(a), a.review, a.status === 'pending');
  return s.ok ? { canDecide: true } : { canDecide: false, reason: s.code };
}
