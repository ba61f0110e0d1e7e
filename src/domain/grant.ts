import type { ActionKind } from './action.js';
import type { ActionRecord } from './action-record.js';
import type { AuditDraft } from './audit-entry.js';
import { formatDuration } from './duration.js';
import { AppError } from './errors.js';
import type { PathPattern } from './grant-path.js';
import { formatPathPattern, narrowestPattern, parsePathPattern, pathMatches, pathPatternProblem, patternWithin } from './grant-path.js';
import type { GrantEndReason } from './grant-end.js';
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
  /** When and why it ended (grant-end.ts); its `grant.ended` entry was written then. */
  endedAt?: string;
  endReason?: GrantEndReason;
}

/** What a reviewer asks for with an approval. */
export interface GrantAsk {
  ttlMs: number;
  uses: number;
  /** A path pattern for http actions (grant-path.ts): narrows an unpinned path, or widens a pinned one within the policy's `paths`. */
  path?: string | undefined;
}

/** How a grant's scope holds a path pattern (a plain string there is the exact path, as before patterns existed). */
export interface ScopedPathPattern {
  pattern: string;
}

function isScopedPattern(v: unknown): v is ScopedPathPattern {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as ScopedPathPattern).pattern === 'string';
}

export const GRANT_STATUSES = ['active', 'expired', 'used-up', 'revoked', 'ended'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

/** Bounds of a grant on an action: those of every requirement (the tightest); undefined when one rule allows none. */
export function grantBounds(reqs: ReadonlyArray<Pick<Requirement, 'grants'>>): { maxTtlMs: number; maxUses: number; scope: string[]; pathLimits: string[][] } | undefined {
  if (reqs.length === 0 || reqs.some((r) => !r.grants)) return undefined;
  return {
    maxTtlMs: Math.min(...reqs.map((r) => r.grants!.maxTtlMs)),
    maxUses: Math.min(...reqs.map((r) => r.grants!.maxUses)),
    scope: [...new Set(reqs.flatMap((r) => r.grants!.scope))].sort(),
    // Per rule that pins http.path, the patterns it lets reviewers widen to ([]: the exact path only).
    pathLimits: reqs.filter((r) => r.grants!.scope.includes('http.path')).map((r) => r.grants!.paths ?? []),
  };
}

/** The approved action's path as policy saw it (`http.path`: without a trailing slash). */
function approvedPath(a: Pick<ActionRecord, 'kind' | 'input'>): string | undefined {
  const p = a.kind === 'http' ? a.input.path : undefined;
  if (typeof p !== 'string') return undefined;
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/**
 * Refuses a path pattern that is malformed, does not match the approved action's
 * path, or is wider than every pattern the policy allows (for each rule that pins
 * http.path). Without a pin, a pattern only narrows, so any that matches is allowed.
 */
function checkPathAsk(a: ActionRecord, pattern: string, pathLimits: readonly string[][]): void {
  const problem = pathPatternProblem(pattern);
  if (problem) throw new AppError('GRANT_PATH_INVALID', `The grant's path pattern is invalid: ${problem}`, { path: pattern });
  const path = approvedPath(a);
  if (path === undefined) throw new AppError('GRANT_PATH_INVALID', 'A path pattern applies to http actions only', { path: pattern });
  const p = parsePathPattern(pattern);
  if (!pathMatches(p, path)) throw new AppError('GRANT_PATH_INVALID', `The path pattern ${pattern} does not match the approved action's path ${path}`, { path: pattern });
  for (const limits of pathLimits) {
    // All literal and matching: the exact path, which a pin always allows.
    const ok = p.every((s) => s !== null) || limits.some((w) => patternWithin(p, parsePathPattern(w)));
    if (!ok) {
      throw new AppError('GRANT_OUT_OF_BOUNDS', `The path pattern ${pattern} is wider than the policy allows: ${limits.length ? `at most ${limits.join(' or ')}` : 'the exact path only'}`, {
        path: pattern,
        allowed: limits,
      });
    }
  }
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
  if (ask.path !== undefined) checkPathAsk(a, ask.path, b.pathLimits);
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
  if (g.revokedAt || g.endReason === 'revoked') return 'revoked';
  if (g.endReason === 'policy-changed') return 'ended';
  if (g.uses >= g.maxUses || g.endReason === 'used-up') return 'used-up';
  if (g.endReason === 'expired') return 'expired';
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
  return Object.keys(g.scope).every((k) => {
    const pinned = g.scope[k];
    // A stored pattern is checked again: one that no longer parses covers nothing.
    if (isScopedPattern(pinned)) return pathPatternProblem(pinned.pattern) === undefined && pathMatches(parsePathPattern(pinned.pattern), now[k]);
    return JSON.stringify(now[k]) === JSON.stringify(pinned);
  });
}

/**
 * The `http.path` entry of a grant's scope from what its grantors asked: each asked
 * pattern was checked (checkPathAsk); the narrowest wins. With the path pinned, a
 * grantor who asked no pattern keeps it exact; without a pin, no pattern leaves any path.
 */
function pathScopeOf(scope: Readonly<Record<string, unknown>>, asked: ReadonlyArray<string | undefined>): string | ScopedPathPattern | undefined {
  const pinned = Object.hasOwn(scope, 'http.path');
  const patterns: PathPattern[] = asked.filter((p): p is string => p !== undefined).map(parsePathPattern);
  if (patterns.length === 0 || (pinned && patterns.length < asked.length)) return pinned ? (scope['http.path'] as string) : undefined;
  const p = narrowestPattern(patterns);
  return p.every((s) => s !== null) ? formatPathPattern(p) : { pattern: formatPathPattern(p) };
}

/** The grant as words: what it covers, until when, how many times. */
export function grantText(g: Pick<Grant, 'agent' | 'target' | 'kind' | 'ruleIds' | 'scope' | 'maxUses' | 'expiresAt'>): string {
  const pins = Object.entries(g.scope).map(([k, v]) =>
    isScopedPattern(v) ? `${k} matching ${v.pattern} (each * is any one path segment)` : `${k} ${Array.isArray(v) ? `= [${v.join(', ')}]` : `= ${JSON.stringify(v)}`}`,
  );
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
  const scope: Record<string, unknown> = { ...a.grantScope };
  const path = pathScopeOf(a.grantScope, asking.map((r) => r.grant.path));
  if (path !== undefined) scope['http.path'] = path;
  const base = {
    kind: a.kind,
    agent: a.requester.id,
    target: a.target,
    ruleIds,
    scope,
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
