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
