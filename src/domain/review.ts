import type { ErrorCode } from './errors.js';
import { AppError } from './errors.js';
import type { ApproverRef, Principal } from './identity.js';
import { refMatches } from './identity.js';
import type { GrantBounds } from './counter-spec.js';

/** One fired review rule's requirement; all of an action's requirements must be met. */
export interface Requirement {
  ruleId: string;
  approvers: ApproverRef[];
  quorum: number;
  timeoutMs: number;
  escalate?: { afterMs: number; to: ApproverRef[]; at: string; done: boolean };
  /** What a grant given with an approval may cover (from the rule's review.grants). */
  grants?: GrantBounds;
}

export const VERDICTS = ['approve', 'deny'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface Review {
  reviewer: string;
  /** The reviewer's groups when they reviewed: eligibility is judged, and audited, at that moment. */
  groups: readonly string[];
  verdict: Verdict;
  fingerprint?: string;
  comment?: string;
  via: string;
  at: string;
  /** Ids of the requirements this review counted towards. */
  countsFor: string[];
  /** The standing grant this approver asked for with the approval (grant.ts). */
  grant?: { ttlMs: number; uses: number; path?: string };
}

export interface ReviewState {
  requirements: Requirement[];
  reviews: Review[];
  expiresAt: string;
}

/** Who the action belongs to, for separation of duties. */
export interface Parties {
  requester: string;
  owner?: string | undefined;
  onBehalfOf?: string | undefined;
}

export function eligibleRefs(r: Requirement): ApproverRef[] {
  return r.escalate?.done ? [...r.approvers, ...r.escalate.to] : r.approvers;
}

/** The requirements this human may approve for (before separation of duties). */
export function requirementsFor(human: { id: string; groups: readonly string[] }, reqs: readonly Requirement[]): string[] {
  return reqs.filter((r) => eligibleRefs(r).some((ref) => refMatches(ref, human))).map((r) => r.ruleId);
}

/** Whether this identity is the requester, the human it acts for, or the agent's owner. */
export function isParty(id: string, p: Parties): boolean {
  const x = id.toLowerCase();
  return x === p.requester.toLowerCase() || x === p.owner?.toLowerCase() || x === p.onBehalfOf?.toLowerCase();
}

/** What `checkReviewer` decides, without throwing: a refusal's code and message, or what the review counts for. */
export type ReviewerStanding =
  | { ok: true; human: { id: string; groups: readonly string[] }; countsFor: string[] }
  | { ok: false; code: ErrorCode; message?: string };

/**
 * Separation of duties and eligibility. No role bypasses it. The order of checks is
 * the order of the refusals a caller sees: identity first, then state, then payload.
 * Returned, not thrown: every view of an action asks it (review-standing.ts), and an
 * exception per view (its stack trace) was a cost of each answered long poll.
 */
export function reviewerStanding(who: Principal, parties: Parties, state: ReviewState, isPending: boolean): ReviewerStanding {
  if (who.type === 'agent') return { ok: false, code: 'AGENT_CANNOT_REVIEW' };
  if (isParty(who.id, parties)) {
    return { ok: false, code: 'SELF_APPROVAL', message: 'Separation of duties: the requester, the human it acts for and the agent\'s owner cannot review this action' };
  }
  const countsFor = requirementsFor(who, state.requirements);
  if (countsFor.length === 0) return { ok: false, code: 'NOT_ELIGIBLE', message: 'Not an eligible reviewer: the action\'s requirements name neither you nor a group of yours' };
  if (!isPending) return { ok: false, code: 'NOT_PENDING' };
  if (state.reviews.some((r) => r.reviewer.toLowerCase() === who.id.toLowerCase())) return { ok: false, code: 'ALREADY_REVIEWED' };
  return { ok: true, human: who, countsFor };
}

/** `reviewerStanding`, throwing the refusal (the review path). */
export function checkReviewer(
  who: Principal,
  parties: Parties,
  state: ReviewState,
  isPending: boolean,
): { human: { id: string; groups: readonly string[] }; countsFor: string[] } {
  const s = reviewerStanding(who, parties, state, isPending);
  if (!s.ok) throw new AppError(s.code, s.message);
  return { human: s.human, countsFor: s.countsFor };
}

/** Distinct humans whose approval of this fingerprint counts towards a requirement. */
export function approversCounted(req: Requirement, reviews: readonly Review[], fingerprint: string, parties: Parties): string[] {
  const seen = new Set<string>();
  for (const r of reviews) {
    // Only approvals carry a fingerprint (applyReview), so the verdict test alone never
    // decides here: an equivalent mutant of the campaign, kept to say what counts.
    if (r.verdict !== 'approve' || r.fingerprint !== fingerprint) continue;
    if (isParty(r.reviewer, parties)) continue;
    // Eligibility is judged when the human reviews: an approval counts for the requirements
    // it was given for (countsFor), never for one a later escalation opened to its groups.
    // Otherwise an escalation would silently turn one approval into a second rule's quorum.
    if (!r.countsFor.includes(req.ruleId)) continue;
    if (!eligibleRefs(req).some((ref) => refMatches(ref, { id: r.reviewer, groups: r.groups }))) continue;
    seen.add(r.reviewer.toLowerCase());
  }
  return [...seen];
}

export type ReviewOutcome = 'approved' | 'denied' | 'pending';

/** One eligible deny denies; otherwise approved once every requirement has its quorum of distinct humans. */
export function reviewOutcome(state: ReviewState, fingerprint: string, parties: Parties): ReviewOutcome {
  if (state.reviews.some((r) => r.verdict === 'deny' && r.countsFor.length > 0 && !isParty(r.reviewer, parties))) return 'denied';
  const met = state.requirements.every((req) => approversCounted(req, state.reviews, fingerprint, parties).length >= req.quorum);
  return met ? 'approved' : 'pending';
}
