import type { ActionRecord } from './action-record.js';
import type { Principal } from './identity.js';
import { refMatches } from './identity.js';
import { isParty, eligibleRefs } from './review.js';

/**
 * Who may read an action: its requester; the humans it concerns (owner, onBehalfOf);
 * humans its requirements name (including escalation targets, once escalated);
 * humans who reviewed it; and auditors. Agents read only their own.
 */
export function canView(who: Principal, a: ActionRecord, auditorGroups: readonly string[]): boolean {
  if (who.type === 'agent') return a.requester.type === 'agent' && a.requester.id === who.id;
  if (isParty(who.id, { requester: a.requester.id, owner: a.requester.owner, onBehalfOf: a.onBehalfOf })) return true;
  if (who.groups.some((g) => auditorGroups.includes(g))) return true;
  if (!a.review) return false;
  if (a.review.reviews.some((r) => r.reviewer.toLowerCase() === who.id.toLowerCase())) return true;
  return a.review.requirements.some((q) => eligibleRefs(q).some((ref) => refMatches(ref, who)));
}

/** The approver references that name this human, for the store's audience index. */
export function audienceOf(who: Principal): string[] {
  if (who.type === 'agent') return [];
  return [`user:${who.id.toLowerCase()}`, ...who.groups.map((g) => `group:${g}`)];
}
