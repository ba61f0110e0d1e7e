import type { ActionKind } from './action.js';
import type { ActionRecord } from './action-record.js';
import type { AuditDraft } from './audit-entry.js';
import { formatDuration } from './duration.js';
import { AppError } from './errors.js';
import type { ApproverRef } from './identity.js';
import { KIND_FACTS } from './policy-facts.js';
import type { Decision, EvaluationInput } from './policy-types.js';
import type { Parties, Requirement, Review } from './review.js';
import { eligibleRefs, reviewOutcome } from './review.js';

/** A standing grant: approvals given in advance for actions like one that was approved, bounded in time and uses. */
export interface Grant {
  id: string;
  /** The approved action that created it (not one of its uses). */
  actionId: string;
  /** The review rules it answers for; an action another review rule catches is not covered. */
  ruleIds: string[];
  /** Digests of those rules as written: a grant ends when one changes (CompiledPolicy.ruleDigest). */
  ruleDigests: Record<string, string>;
  policyVersion: string;
  kind: ActionKind;
  agent: string;
  target: string;
  /** Pinned facts (`sql.types`...), with the approved action's values. */
  scope: Record<string, unknown>;
  /** The scope in plain words, as reviewers saw it. */
  text: string;
  /** Who may revoke it besides its grantors: the approvers of its rules. */
  approvers: ApproverRef[];
  grantedBy: string[];
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  revokedAt?: string;
  revokedBy?: string;
  revokeReason?: string;
}

/** What a reviewer asks for with an approval. */
export interface GrantAsk {
  ttlMs: number;
  uses: number;
}

export const GRANT_STATUSES = ['active', 'expired', 'used-up', 'revoked', 'ended'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

/** Bounds of a grant on an action: those of every requirement (the tightest); undefined when one rule allows none. */
export function grantBounds(reqs: ReadonlyArray<Pick<Requirement, 'grants'>>): { maxTtlMs: number; maxUses: number; scope: string[] } | undefined {
  if (reqs.length === 0 || reqs.some((r) => !r.grants)) return undefined;
  return {
    maxTtlMs: Math.min(...reqs.map((r) => r.grants!.maxTtlMs)),
    maxUses: Math.min(...reqs.map((r) => r.grants!.maxUses)),
    scope: [...new Set(reqs.flatMap((r) => r.grants!.scope))].sort(),
  };
}

/** Refuses a grant the policy does not allow on this action, or beyond its bounds. */
export function checkGrantAsk(a: ActionRecord, ask: GrantAsk): void {
  const reqs = a.review?.requirements ?? [];
  const b = grantBounds(reqs);
  if (!b || !a.grantScope) {
    const none = reqs.filter((r) => !r.grants).map((r) => r.ruleId);
    throw new AppError('GRANT_NOT_ALLOWED', `The policy allows no grant here: rule${none.length === 1 ? '' : 's'} ${none.join(', ') || '(none)'} set${none.length === 1 ? 's' : ''} no review.grants`, { rules: none });
  }
  const problems: string[] = [];
  if (!Number.isSafeInteger(ask.ttlMs) || ask.ttlMs <= 0 || ask.ttlMs > b.maxTtlMs) problems.push(`ttl ${formatDuration(ask.ttlMs)} exceeds the policy's maxTtl ${formatDuration(b.maxTtlMs)}`);
  if (!Number.isSafeInteger(ask.uses) || ask.uses < 1 || ask.uses > b.maxUses) problems.push(`uses ${ask.uses} is outside 1..${b.maxUses} (the policy's maxUses)`);
  if (problems.length) throw new AppError('GRANT_OUT_OF_BOUNDS', `The grant is beyond what the policy allows: ${problems.join('; ')}`, { maxTtl: formatDuration(b.maxTtlMs), maxUses: b.maxUses });
}

/** The pinned facts of an action, by scope entry (`sql.types`), from the facts policy saw. */
export function scopeValues(e: EvaluationInput, scope: readonly string[]): Record<string, unknown> {
  const facts = Object.hasOwn(KIND_FACTS, e.action.kind) ? KIND_FACTS[e.action.kind as ActionKind](e) : {};
  const out: Record<string, unknown> = {};
  for (const entry of scope) {
    const [kind, fact] = entry.split('.');
    if (!fact) continue; // agent, target: always pinned
    out[entry] = kind === e.action.kind ? normalize(facts[fact]) : null;
  }
  return out;
}

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return [...new Set(v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))))].sort();
  return v === undefined ? null : v;
}

export function grantStatus(g: Grant, nowMs: number, digestOf: (ruleId: string) => string | undefined): GrantStatus {
  if (g.revokedAt) return 'revoked';
  if (g.uses >= g.maxUses) return 'used-up';
  if (Date.parse(g.expiresAt) <= nowMs) return 'expired';
  if (g.ruleIds.some((id) => digestOf(id) !== g.ruleDigests[id])) return 'ended';
  return 'active';
}

/**
 * Whether a grant covers an action the policy sent to review: active, for the same
 * agent, target and kind, every fired review rule among its rules (a stricter or
 * other review rule is not covered, nor is a deny), every pinned fact equal.
 */
export function grantCovers(
  g: Grant,
  d: Decision,
  e: EvaluationInput,
  nowMs: number,
  digestOf: (ruleId: string) => string | undefined,
): boolean {
  if (d.outcome !== 'review' || d.requirements.length === 0) return false;
  if (grantStatus(g, nowMs, digestOf) !== 'active') return false;
  if (g.kind !== e.action.kind || g.agent !== e.requester.id || g.target !== e.action.target) return false;
  if (!d.requirements.every((r) => g.ruleIds.includes(r.ruleId))) return false;
  const now = scopeValues(e, Object.keys(g.scope));
  return Object.keys(g.scope).every((k) => JSON.stringify(now[k]) === JSON.stringify(g.scope[k]));
}

/** The grant as words: what it covers, until when, how many times. */
export function grantText(g: Pick<Grant, 'agent' | 'target' | 'kind' | 'ruleIds' | 'scope' | 'maxUses' | 'expiresAt'>): string {
  const pins = Object.entries(g.scope).map(([k, v]) => `${k} ${Array.isArray(v) ? `= [${v.join(', ')}]` : `= ${JSON.stringify(v)}`}`);
  return `${g.kind} actions of ${g.agent} on ${g.target} that rule${g.ruleIds.length === 1 ? '' : 's'} ${g.ruleIds.join(', ')} would send to review${pins.length ? `, with ${pins.join(', ')}` : ''}: up to ${g.maxUses} more, until ${g.expiresAt}`;
}

/**
 * The grant an approval creates, if any: once the action is approved, the approvals
 * that asked for a grant must meet every requirement's quorum by themselves (the same
 * distinct, eligible, non-party humans as the approval). Its terms are the narrowest
 * any of them asked for.
 */
export function grantFromApproval(a: ActionRecord, parties: Parties, policy: { version: string; digestOf(ruleId: string): string | undefined }, id: string, now: Date): Grant | undefined {
  if (a.status !== 'approved' || !a.review || !a.grantScope) return undefined;
  const asking = a.review.reviews.filter((r): r is Review & { grant: GrantAsk } => r.verdict === 'approve' && r.grant !== undefined);
  if (asking.length === 0) return undefined;
  if (reviewOutcome({ ...a.review, reviews: asking }, a.fingerprint, parties) !== 'approved') return undefined;
  const ruleIds = a.review.requirements.map((r) => r.ruleId);
  const ruleDigests: Record<string, string> = {};
  for (const r of ruleIds) {
    const d = policy.digestOf(r);
    if (d === undefined) return undefined; // the rule is gone: nothing to grant for
    ruleDigests[r] = d;
  }
  const ttlMs = Math.min(...asking.map((r) => r.grant.ttlMs));
  const base = {
    kind: a.kind,
    agent: a.requester.id,
    target: a.target,
    ruleIds,
    scope: a.grantScope,
    maxUses: Math.min(...asking.map((r) => r.grant.uses)),
    expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
  };
  return {
    id,
    actionId: a.id,
    ruleDigests,
    policyVersion: policy.version,
    ...base,
    text: grantText(base),
    approvers: [...new Set(a.review.requirements.flatMap((r) => eligibleRefs(r)))],
    grantedBy: [...new Set(asking.map((r) => r.reviewer))],
    createdAt: now.toISOString(),
    uses: 0,
  };
}

export function grantCreatedEntry(g: Grant): AuditDraft {
  return {
    type: 'grant.created',
    ts: g.createdAt,
    actionId: g.actionId,
    actor: { type: 'system', id: 'countersign' },
    data: { grant: g.id, rules: g.ruleIds, agent: g.agent, target: g.target, kind: g.kind, scope: g.scope, maxUses: g.maxUses, expiresAt: g.expiresAt, grantedBy: g.grantedBy, text: g.text },
  };
}

/** The part of a grant shown on the action that created it (and in chat messages). */
export function grantSummary(g: Grant): NonNullable<ActionRecord['grant']> {
  return { id: g.id, expiresAt: g.expiresAt, maxUses: g.maxUses, text: g.text };
}
