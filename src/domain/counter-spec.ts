import type { KeyPath } from './policy-reader.js';
import type { MatchSpec } from './policy-spec.js';
import type { CounterDim, CountOn } from './history-types.js';

/** A counter as written under `counters:` in the policy. */
export interface CounterSpec {
  name: string;
  path: KeyPath;
  match: MatchSpec;
  when?: string | undefined;
  by: CounterDim[];
  windowMs: number;
  count: CountOn;
  /** A CEL int expression; default 1, or the number of statements for sql actions. */
  weight?: string | undefined;
}

/** What a grant given with an approval may cover, per rule (`review.grants`); absent: no grants. */
export interface GrantBounds {
  maxTtlMs: number;
  maxUses: number;
  /** Facts a future action must share with the approved one, besides rule, agent, target and kind. */
  scope: string[];
  /** With `http.path` in scope: patterns a reviewer may widen the pinned path to (grant-path.ts); absent: the exact path only. */
  paths?: string[];
}

/** Whether a rule decides or is only evaluated and recorded. */
export const RULE_MODES = ['enforce', 'shadow'] as const;
export type RuleMode = (typeof RULE_MODES)[number];
