import { celContext } from './policy-facts.js';
import type { CelContext } from './policy-facts.js';
import { decide } from './policy-decision.js';
import type { Firing } from './policy-decision.js';
import type { RuleIndex } from './policy-index.js';
import type { CompiledCounter } from './policy-counters.js';
import { withHistory } from './policy-history-context.js';
import { withShadow } from './policy-shadow.js';
import type { ShadowRules } from './policy-shadow.js';
import { ConditionError, errorText, matchFailure, nonBool, testCondition } from './policy-rule.js';
import type { CompiledRule } from './policy-rule.js';
import type { OutcomeSpec } from './policy-spec.js';
import type { Decision, EvaluationInput, PolicyTrace, RuleTrace } from './policy-types.js';

export interface PolicyCore {
  version: string;
  rules: readonly CompiledRule[];
  index: RuleIndex;
  default: OutcomeSpec;
  /** Declared counters by name (`counters.NAME`). */
  counters: ReadonlyMap<string, CompiledCounter>;
  /** Rules with `mode: shadow`, when there are any. */
  shadow?: ShadowRules | undefined;
}

/*
 * Fail closed: a condition that errors (or is not a bool) makes a deny or review rule
 * fire, with the error in the reason, and keeps an allow rule from firing.
 */

/** The hot path: facts derived once and only if a condition needs them, indexed candidates, no allocation per rule that does not fire. */
export function evaluate(p: PolicyCore, input: EvaluationInput): Decision {
  const candidates = p.index.candidates(input.action.kind, input.action.target);
  let ctx: CelContext | undefined;
  let fired: Firing[] | undefined;
  for (const rule of candidates) {
    if (matchFailure(rule, input) !== undefined) continue;
    let error: string | undefined;
    if (rule.condition) {
      ctx ??= withHistory(celContext(input), p.counters, input);
      const v = testCondition(rule.condition, ctx);
      if (v === false) continue;
      if (v instanceof ConditionError) {
        if (rule.outcome === 'allow') continue;
        error = v.message;
      }
    }
    (fired ??= []).push({ rule, error });
  }
  const d = decide(fired ?? [], p.default, p.version);
  if (!p.shadow) return d;
  return withShadow(p.shadow, p, input, () => (ctx ??= withHistory(celContext(input), p.counters, input)), fired ?? [], d);
}

/** Every rule, no index: the reference the indexed path must agree with, and the trace `policy explain` prints. */
export function explain(p: PolicyCore, input: EvaluationInput): PolicyTrace {
  const ctx = withHistory(celContext(input), p.counters, input);
  const fired: Firing[] = [];
  const rules = p.rules.map((rule): RuleTrace => {
    const base = { ruleId: rule.id, line: rule.line, outcome: rule.outcome, requirement: rule.review };
    const failed = matchFailure(rule, input);
    if (failed !== undefined) return { ...base, match: { held: false, failed }, fired: false };
    if (!rule.condition) {
      fired.push({ rule, error: undefined });
      return { ...base, match: { held: true }, fired: true };
    }
    const expression = rule.condition.expression;
    let value: unknown;
    let error: string | undefined;
    try {
      value = rule.condition.run(ctx);
      if (typeof value !== 'boolean') error = nonBool(value);
    } catch (e) {
      error = errorText(e);
    }
    const didFire = error !== undefined ? rule.outcome !== 'allow' : value === true;
    if (didFire) fired.push({ rule, error });
    return { ...base, match: { held: true }, condition: error !== undefined ? { expression, error } : { expression, value }, fired: didFire };
  });
  const d = decide(fired, p.default, p.version);
  return { decision: p.shadow ? withShadow(p.shadow, p, input, () => ctx, fired, d) : d, rules };
}
