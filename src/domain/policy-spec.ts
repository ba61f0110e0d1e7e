import type { ActionKind } from './action.js';
import type { Outcome, ReviewSpec } from './policy-types.js';
import type { CounterSpec, RuleMode } from './counter-spec.js';

/** A policy as written, validated but not yet compiled. */
export interface PolicySpec {
  default?: OutcomeSpec | undefined;
  rules: RuleSpec[];
  /** `counters:` (history facts for conditions). */
  counters?: CounterSpec[] | undefined;
}

export interface OutcomeSpec {
  outcome: Outcome;
  review?: ReviewSpec | undefined;
  reason?: string | undefined;
}

export interface RuleSpec extends OutcomeSpec {
  id: string;
  /** Key path of the rule in the document, for locating issues. */
  path: Array<string | number>;
  match: MatchSpec;
  when?: string | undefined;
  /** `shadow`: evaluated and recorded, never enforced (absent: enforced). */
  mode?: RuleMode | undefined;
}

/** Every given part must hold; an absent part matches anything. */
export interface MatchSpec {
  kinds?: ActionKind[] | undefined;
  targets?: string[] | undefined;
  requesters?: string[] | undefined;
  labels?: Record<string, string> | undefined;
}

/** The id reserved for the default outcome in decisions. */
export const DEFAULT_RULE_ID = 'default';
