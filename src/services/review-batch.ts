import type { ActionRecord } from '../domain/action-record.js';
import { isAppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import type { Verdict } from '../domain/review.js';
import type { ReviewService } from './review-service.js';

/** Most actions one batch decides (the API and the console both cap at this). */
export const MAX_BATCH = 100;

export interface BatchItem {
  id: string;
  fingerprint?: string | undefined;
}

export type BatchResult = { id: string; ok: true; action: ActionRecord } | { id: string; ok: false; error: { code: string; message: string } };

/**
 * Batch decisions: each action reviewed on its own through the review service (its
 * fingerprint, its eligibility and separation-of-duties checks, its audit entry). One
 * refusal does not stop the others; each result says how its action went.
 */
export async function reviewBatch(
  reviews: Pick<ReviewService, 'review'>,
  who: Principal,
  input: { verdict: Verdict; comment?: string | undefined; items: readonly BatchItem[]; via: string },
): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  // One after the other: each is its own compare-and-swap and audit entry.
  for (const item of input.items) {
    try {
      const action = await reviews.review(who, item.id, { verdict: input.verdict, fingerprint: item.fingerprint, comment: input.comment, via: input.via });
      results.push({ id: item.id, ok: true, action });
    } catch (e) {
      if (!isAppError(e)) throw e;
      results.push({ id: item.id, ok: false, error: { code: e.code, message: e.message } });
    }
  }
  return results;
}
