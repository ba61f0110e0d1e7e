import type { ActionRecord } from '../../domain/action-record.js';
import { eligibleRefs } from '../../domain/review.js';

/**
 * Lower-cases the address of a `user:` reference, which compares case-insensitively
 * (like `refMatches`); group names compare exactly.
 */
export function normalizeRef(ref: string): string {
  return ref.startsWith('user:') ? `user:${ref.slice(5).toLowerCase()}` : ref;
}

/**
 * Who may find an action in their inbox: the approver references of every requirement
 * (escalation targets once escalated) and every human who reviewed it. Every store
 * indexes this set so that `listActions({ audience })` needs no scan of the records.
 */
export function audienceOf(a: ActionRecord): string[] {
  if (!a.review) return [];
  const refs = new Set<string>();
  for (const q of a.review.requirements) for (const ref of eligibleRefs(q)) refs.add(normalizeRef(ref));
  for (const r of a.review.reviews) refs.add(normalizeRef(`user:${r.reviewer}`));
  return [...refs];
}
