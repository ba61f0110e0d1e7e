import type { ActionRecord } from '../../domain/action-record.js';
import { refMatches } from '../../domain/identity.js';
import { partiesOf } from '../../domain/lifecycle.js';
import { eligibleRefs, isParty } from '../../domain/review.js';
import type { DirectoryHuman } from '../../services/chat-review.js';

/** Configured humans who may approve this action now (eligible for a requirement, and not a party to it). */
export function eligibleHumans(a: ActionRecord, humans: readonly DirectoryHuman[]): DirectoryHuman[] {
  if (!a.review) return [];
  const parties = partiesOf(a);
  const reviewed = new Set(a.review.reviews.map((r) => r.reviewer.toLowerCase()));
  return humans.filter(
    (h) => !isParty(h.id, parties) && !reviewed.has(h.id.toLowerCase()) && a.review!.requirements.some((q) => eligibleRefs(q).some((ref) => refMatches(ref, h))),
  );
}
