import type { ActionRecord } from '../domain/action-record.js';
import { AppError } from '../domain/errors.js';
import type { GrantAsk, Grant } from '../domain/grant.js';
import { checkGrantAsk, grantCreatedEntry, grantFromApproval, grantSummary } from '../domain/grant.js';
import type { Transition } from '../domain/lifecycle.js';
import { partiesOf } from '../domain/lifecycle.js';
import type { GrantStore } from '../ports/grant-store.js';
import type { Store } from '../ports/store.js';
import type { PolicyService } from './policy-service.js';

/** What the review service needs to create grants with approvals. */
export interface GrantCreation {
  store: Pick<GrantStore, 'updateWithGrant'>;
  policy: PolicyService;
  grantId(): string;
}

export type GrantTransition = Transition & { grant?: Grant | undefined };

/**
 * A review, with the grant its approver asked for: checked against the policy's bounds
 * after separation of duties and eligibility (applyReview refuses first), recorded on
 * the review and its audit entry; and, when this review approves the action, the grant
 * the approvals that asked for one create together (grantFromApproval).
 */
export function withGrant(cur: ActionRecord, t: Transition, ask: GrantAsk | undefined, now: Date, deps: GrantCreation | undefined): GrantTransition {
  if (ask !== undefined) {
    if (!deps) throw new AppError('GRANT_NOT_ALLOWED', 'This gateway does not give standing grants');
    checkGrantAsk(cur, ask);
    const reviews = t.next.review!.reviews;
    reviews[reviews.length - 1] = { ...reviews[reviews.length - 1]!, grant: ask };
    const entry = t.audit[t.audit.length - 1]!;
    t.audit[t.audit.length - 1] = { ...entry, data: { ...entry.data, grant: ask } };
  }
  const policy = deps?.policy.current();
  if (!deps || !policy || t.next.status !== 'approved') return t;
  const grant = grantFromApproval(t.next, partiesOf(cur), { version: policy.version, digestOf: (id) => policy.ruleDigest(id) }, deps.grantId(), now);
  if (!grant) return t;
  t.next.grant = grantSummary(grant);
  return { next: t.next, audit: [...t.audit, grantCreatedEntry(grant)], grant };
}

const MAX_ATTEMPTS = 8;

/** mutateAction, writing the grant (when the decision made one) in the same transaction. */
export async function mutateWithGrant(
  store: Store,
  grants: Pick<GrantStore, 'updateWithGrant'>,
  id: string,
  decide: (current: ActionRecord) => GrantTransition,
): Promise<{ before: ActionRecord; result: GrantTransition }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await store.getAction(id);
    if (!current) throw new AppError('NOT_FOUND', `No action ${id}`);
    const result = decide(current);
    const ok = result.grant
      ? await grants.updateWithGrant(result.next, current.version, result.audit, result.grant)
      : await store.updateAction(result.next, current.version, result.audit);
    if (ok) return { before: current, result };
  }
  throw new AppError('CONFLICT');
}
