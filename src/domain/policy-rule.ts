import { compileGlobs, isGlob } from './glob.js';
import type { NameMatcher } from './glob.js';
import type { Condition } from './policy-cel.js';
import type { CelContext } from './policy-facts.js';
import type { RuleSpec } from './policy-spec.js';
import type { EvaluationInput, MatchPart, Outcome, ReviewSpec } from './policy-types.js';

/** A rule ready to evaluate: matchers built, condition compiled, texts for decisions precomputed. */
export interface CompiledRule {
  readonly id: string;
  /** Position in the policy: decisions list fired rules in this order. */
  readonly index: number;
  readonly line: number | undefined;
  readonly outcome: Outcome;
  readonly reason: string | undefined;
  readonly review: ReviewSpec | undefined;
  readonly kinds: readonly string[] | undefined;
  /** Set when every target is an exact name: the rule is indexed under each. */
  readonly exactTargets: readonly string[] | undefined;
  readonly target: NameMatcher | undefined;
  readonly requester: NameMatcher | undefined;
  readonly labels: ReadonlyArray<readonly [string, string]> | undefined;
  readonly condition: Condition | undefined;
  /** This rule's part of a decision's reason, e.g. `releases: 2 approvals from group:release`. */
  readonly summary: string;
}

export function buildRule(spec: RuleSpec, index: number, line: number | undefined, condition: Condition | undefined): CompiledRule {
  const { targets, requesters, kinds, labels } = spec.match;
  return {
    id: spec.id,
    index,
    line,
    outcome: spec.outcome,
    reason: spec.reason,
    review: spec.review,
    kinds,
    exactTargets: targets && !targets.some(isGlob) ? targets : undefined,
    target: targets ? compileGlobs(targets) : undefined,
    requester: requesters ? compileGlobs(requesters) : undefined,
    labels: labels ? Object.entries(labels) : undefined,
    condition,
    summary: ruleSummary(spec),
  };
}

function ruleSummary(spec: RuleSpec): string {
  if (spec.outcome === 'review' && spec.review) return `${spec.id}: ${approvalsText(spec.review)}${spec.reason ? ` (${spec.reason})` : ''}`;
  return spec.reason ? `${spec.id}: ${spec.reason}` : spec.id;
}

/** "2 approvals from group:release", "1 approval from group:a or user:b@x". */
export function approvalsText(r: ReviewSpec): string {
  return `${r.quorum} approval${r.quorum === 1 ? '' : 's'} from ${r.approvers.join(' or ')}`;
}

/**
 * The first part of `match` that does not hold, or undefined when all do. Labels are
 * read from `{...requester.labels, ...target.labels}` (the target's win), without
 * building that map: both come from config, never from the agent.
 */
export function matchFailure(rule: CompiledRule, e: EvaluationInput): MatchPart | undefined {
  if (rule.kinds && !rule.kinds.includes(e.action.kind)) return 'kind';
  if (rule.target && !rule.target(e.action.target)) return 'target';
  if (rule.requester && !rule.requester(e.requester.id)) return 'requester';
  if (rule.labels) {
    const t = e.target.labels;
    const r = e.requester.labels;
    for (const [k, v] of rule.labels) {
      const actual = Object.hasOwn(t, k) ? t[k] : Object.hasOwn(r, k) ? r[k] : undefined;
      if (actual !== v) return 'labels';
    }
  }
  return undefined;
}

/** Why a condition could not be decided; only allocated when that happens. */
export class ConditionError {
  constructor(readonly message: string) {}
}

/** A condition's verdict: true, false, or an error (including a non-bool result). */
export function testCondition(condition: Condition, ctx: CelContext): boolean | ConditionError {
  let value: unknown;
  try {
    value = condition.run(ctx);
  } catch (e) {
    return new ConditionError(errorText(e));
  }
  return typeof value === 'boolean' ? value : new ConditionError(nonBool(value));
}

export function errorText(e: unknown): string {
  const err = e as { summary?: unknown; message?: unknown } | undefined;
  if (typeof err?.summary === 'string') return err.summary;
  if (typeof err?.message === 'string') return err.message.split('\n')[0] ?? err.message;
  return String(e);
}

export function nonBool(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value === 'bigint' ? 'int' : typeof value === 'number' ? 'double' : typeof value === 'object' ? 'map' : typeof value;
  return `the condition gave ${type}, not bool`;
}
