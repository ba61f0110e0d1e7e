import type { Grant } from './grant.js';
import type { Principal } from './identity.js';
import { refMatches } from './identity.js';

type Human = Extract<Principal, { type: 'human' }>;

/** Grantors, and anyone who may approve what the grant answers for: revoking only tightens. */
export function mayRevokeGrant(who: Human, g: Pick<Grant, 'grantedBy' | 'approvers'>): boolean {
  return g.grantedBy.some((x) => x.toLowerCase() === who.id.toLowerCase()) || g.approvers.some((ref) => refMatches(ref, who));
}

/** Who a review surface shows a grant to: those who may revoke it, and auditors (read-only). */
export function maySeeGrant(who: Human, g: Pick<Grant, 'grantedBy' | 'approvers'>, auditorGroups: readonly string[]): boolean {
  return mayRevokeGrant(who, g) || who.groups.some((x) => auditorGroups.includes(x));
}

/**
 * The keys under which stores index a grant for `maySeeGrant`'s non-auditor half: its
 * grantors as `user:` references and its approver references, user addresses lower-cased
 * as `refMatches` compares them. A human may see the grant (auditors aside) exactly when
 * one of `audienceKeysOf(who)` is among these.
 */
export function grantAudienceOf(g: Pick<Grant, 'grantedBy' | 'approvers'>): string[] {
  const keys = new Set<string>();
  for (const id of g.grantedBy) keys.add(`user:${id.toLowerCase()}`);
  for (const ref of g.approvers) keys.add(ref.startsWith('user:') ? `user:${ref.slice(5).toLowerCase()}` : ref);
  return [...keys];
}

/** The references that name this human: what a store matches against `grantAudienceOf`. */
export function audienceKeysOf(who: Pick<Human, 'id' | 'groups'>): string[] {
  return [`user:${who.id.toLowerCase()}`, ...who.groups.map((g) => `group:${g}`)];
}
