import type { AuditDraft } from './audit-entry.js';
import type { Grant } from './grant.js';

/*
 * How a standing grant ends, and the one `grant.ended` audit entry that says so. The
 * store writes it with the change that ends the grant (its last use, its revocation) or,
 * for what time and policy changes end, when the sweep notices (services/grant-service.ts),
 * each time guarded by the grant's `ended_at` so that it is written exactly once.
 */

export const GRANT_END_REASONS = ['used-up', 'expired', 'revoked', 'policy-changed'] as const;
export type GrantEndReason = (typeof GRANT_END_REASONS)[number];

/** A grant to end, as the sweep found it. */
export interface GrantEnd {
  id: string;
  reason: GrantEndReason;
  /** When it ended: its expiry, or when the changed policy was seen. */
  at: string;
  /** policy-changed: the rules of the grant that the new policy changed or removed. */
  rules?: string[] | undefined;
  policyVersion?: string | undefined;
}

/** Why an unended grant is over now, or undefined while it may still be used. */
export function endOf(g: Grant, nowMs: number, policy: { version: string; digestOf(ruleId: string): string | undefined } | undefined): GrantEnd | undefined {
  if (g.endedAt) return undefined;
  if (g.revokedAt) return { id: g.id, reason: 'revoked', at: g.revokedAt };
  if (g.uses >= g.maxUses) return { id: g.id, reason: 'used-up', at: new Date(nowMs).toISOString() };
  if (Date.parse(g.expiresAt) <= nowMs) return { id: g.id, reason: 'expired', at: g.expiresAt };
  const changed = policy ? g.ruleIds.filter((id) => policy.digestOf(id) !== g.ruleDigests[id]) : [];
  if (changed.length) return { id: g.id, reason: 'policy-changed', at: new Date(nowMs).toISOString(), rules: changed, policyVersion: policy!.version };
  return undefined;
}

/** The grant's record fields once ended (merged into the stored record). */
export function endedFields(e: Pick<GrantEnd, 'reason' | 'at'>): { endedAt: string; endReason: GrantEndReason } {
  return { endedAt: e.at, endReason: e.reason };
}

export function grantEndedEntry(g: Grant, e: Omit<GrantEnd, 'id'>): AuditDraft {
  return {
    type: 'grant.ended',
    ts: e.at,
    // No actionId: the entry belongs to the grant, not to a state change of the action that created it.
    actor: { type: 'system', id: 'countersign' },
    data: {
      grant: g.id,
      action: g.actionId,
      reason: e.reason,
      uses: g.uses,
      maxUses: g.maxUses,
      expiresAt: g.expiresAt,
      ...(e.rules ? { rules: e.rules } : {}),
      ...(e.policyVersion ? { policyVersion: e.policyVersion } : {}),
    },
  };
}
