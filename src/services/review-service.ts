import type { ActionRecord } from '../domain/action-record.js';
import { isAppError } from '../domain/errors.js';
import { checkJsonValue } from '../domain/json-check.js';
import type { Principal } from '../domain/identity.js';
import { applyReview, cancelAction, expireAction, isExpired } from '../domain/lifecycle.js';
import type { Verdict } from '../domain/review.js';
import type { Clock } from '../ports/clock.js';
import type { Notifier } from '../ports/notifier.js';
import type { Store } from '../ports/store.js';
import { mutateAction } from './mutate.js';
import { AppError } from '../domain/errors.js';
import type { GrantAsk } from '../domain/grant.js';
import type { GrantCreation } from './review-grants.js';
import { mutateWithGrant, withGrant } from './review-grants.js';

export interface ReviewInput {
  verdict: Verdict;
  fingerprint?: string | undefined;
  comment?: string | undefined;
  /** Where the review came from: api, cli, slack, teams... */
  via: string;
  /** With an approval: also grant approvals of actions like this one, within the policy's bounds (grant.ts). */
  grant?: GrantAsk | undefined;
}

export interface ReviewService {
  review(who: Principal, id: string, input: ReviewInput): Promise<ActionRecord>;
  cancel(who: Principal, id: string): Promise<ActionRecord>;
}

export function createReviewService(deps: {
  store: Store;
  clock: Clock;
  notifier: Notifier;
  dispatch(action: ActionRecord): void;
  /** Standing grants given with approvals; without, a review asking for one is refused. */
  grants?: GrantCreation;
}): ReviewService {
  const { store, clock, notifier } = deps;

  /** A pending action past its expiry is expired first, so the refusal and the record agree. */
  async function expireIfDue(id: string): Promise<void> {
    const a = await store.getAction(id);
    // A fast path: without it expireAction refuses a record not due (NOT_PENDING, ignored below), and a missing one is NOT_FOUND either way (an equivalent mutant).
    if (!a || !isExpired(a, clock.now())) return;
    try {
      const { result } = await mutateAction(store, id, (cur) => expireAction(cur, clock.now()));
      notifier.notify({ type: 'changed', action: result.next });
    } catch (e) {
      if (!(isAppError(e) && e.code === 'NOT_PENDING')) throw e;
    }
  }

  return {
    async review(who, id, input) {
      // checkJsonValue accepts undefined: the test only skips a call (an equivalent mutant).
      if (input.comment !== undefined) checkJsonValue(input.comment, 'comment');
      await expireIfDue(id);
      if (input.grant !== undefined && input.verdict !== 'approve') throw new AppError('VALIDATION_FAILED', 'body/grant: only an approval can grant');
      const decide = (cur: ActionRecord) => {
        const now = clock.now();
        const t = applyReview(cur, who, input.verdict, { fingerprint: input.fingerprint, comment: input.comment, via: input.via, now });
        // A fast path: withGrant without an ask on an action with no grant scope returns t as it is (so `false ?` is an equivalent mutant).
        // With a grant scope, a last approval asking none still goes through withGrant. It cannot
        // create a grant (the askers alone would have met every quorum before it: an approval
        // counts only for the rules it was given for), so `!cur.grantScope` is equivalent; kept
        // so that the grant rules stay in one place.
        return input.grant === undefined && !cur.grantScope ? t : withGrant(cur, t, input.grant, now, deps.grants);
      };
      const { result } = deps.grants ? await mutateWithGrant(store, deps.grants.store, id, decide) : await mutateAction(store, id, decide);
      const action = result.next;
      const review = action.review!.reviews[action.review!.reviews.length - 1]!;
      notifier.notify({ type: 'reviewed', action, review });
      if (action.status === 'approved' && action.mode === 'execute') deps.dispatch(action);
      return action;
    },
    async cancel(who, id) {
      await expireIfDue(id);
      const { result } = await mutateAction(store, id, (cur) => cancelAction(cur, who, clock.now()));
      notifier.notify({ type: 'changed', action: result.next });
      return result.next;
    },
  };
}
