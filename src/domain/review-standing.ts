import type { ActionRecord } from './action-record.js';
import { isAppError } from './errors.js';
import type { Principal } from './identity.js';
import { partiesOf } from './lifecycle.js';
import { checkReviewer } from './review.js';

/** Whether the viewer may decide this action now, and if not, the code a decision would be refused with. */
export interface ReviewStanding {
  canDecide: boolean;
  reason?: string;
}

/**
 * The viewer's standing on a pending action, judged by the same check a decision runs
 * (checkReviewer), so that what `pending` lists and what `approve` accepts cannot differ.
 */
export function reviewStanding(who: Principal, a: ActionRecord): ReviewStanding | undefined {
  if (!a.review) return undefined;
  try {
    checkReviewer(who, partiesOf(a), a.review, a.status === 'pending');
    return { canDecide: true };
  } catch (e) {
    if (isAppError(e)) return { canDecide: false, reason: e.code };
    throw e;
  }
}
