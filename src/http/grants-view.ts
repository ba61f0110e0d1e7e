import type { ActionRecord } from '../domain/action-record.js';
import { formatDuration } from '../domain/duration.js';
import { grantBounds, grantText } from '../domain/grant.js';

/** For a pending action the policy lets approvals grant on: the bounds and the scope in words, shown before approving. */
export function grantableView(a: ActionRecord): Record<string, unknown> | undefined {
  if (a.status !== 'pending' || !a.review || !a.grantScope) return undefined;
  const b = grantBounds(a.review.requirements);
  if (!b) return undefined;
  const text = grantText({
    kind: a.kind,
    agent: a.requester.id,
    target: a.target,
    ruleIds: a.review.requirements.map((r) => r.ruleId),
    scope: a.grantScope,
    maxUses: b.maxUses,
    expiresAt: `at most ${formatDuration(b.maxTtlMs)} after approval`,
  });
  return { maxTtl: formatDuration(b.maxTtlMs), maxUses: b.maxUses, scope: a.grantScope, text };
}
