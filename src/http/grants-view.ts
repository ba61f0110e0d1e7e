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
  // The patterns every rule that pins http.path lets reviewers widen to (grant.path on approval).
  const paths = b.pathLimits.length === 1 ? b.pathLimits[0]! : b.pathLimits.length > 1 ? b.pathLimits.reduce((x, y) => x.filter((p) => y.includes(p))) : [];
  const widen = paths.length ? `; approvers may widen the path to ${paths.join(' or ')} (each * is any one path segment)` : '';
  return { maxTtl: formatDuration(b.maxTtlMs), maxUses: b.maxUses, scope: a.grantScope, text: `${text}${widen}`, ...(paths.length ? { paths } : {}) };
}
