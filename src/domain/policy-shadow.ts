import { decide } from './policy-decision.js';
import type { Firing } from './policy-decision.js';
import type { CelContext } from './policy-facts.js';
import type { RuleIndex } from './policy-index.js';
import { ConditionError, matchFailure, testCondition } from './policy-rule.js';
import type { CompiledRule } from './policy-rule.js';
import type { OutcomeSpec } from './policy-spec.js';
import type { Decision, EvaluationInput } from './policy-types.js';

/** Rules written with `mode: shadow`: evaluated beside the enforced ones, never deciding. */
export interface ShadowRules {
  rules: readonly CompiledRule[];
  index: RuleIndex;
}

/**
 * Adds to an enforced decision what the policy would have decided with its shadow
 * rules enforced too, when one of them fired. The same fail-closed reading of
 * condition errors as enforced rules, so the record says what enforcing would do.
 */
export function withShadow(
  shadow: ShadowRules,
  p: { default: OutcomeSpec; version: string },
  input: EvaluationInput,
  ctx: () => CelContext,
  fired: readonly Firing[],
  enforced: Decision,
): Decision {
  let extra: Firing[] | undefined;
  for (const rule of shadow.index.candidates(input.action.kind, input.action.target)) {
    if (matchFailure(rule, input) !== undefined) continue;
    let error: string | undefined;
    if (rule.condition) {
      const v = testCondition(rule.condition, ctx());
      if (v === false) continue;
      if (v instanceof ConditionError) {
        if (rule.outcome === 'allow') continue;
        error = v.message;
      }
    }
    (extra ??= []).push({ rule, error });
  }
  if (!extra) return enforced;
  const all = [...fired, ...extra].sort((a, b) => a.rule.index - b.rule.index);
  const would = decide(all, p.default, p.version);
  return { ...enforced, shadow: { rules: extra.map((f) => f.rule.id), outcome: would.outcome, disagrees: would.outcome !== enforced.outcome } };
}
