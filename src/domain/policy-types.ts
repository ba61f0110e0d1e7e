import type { CommandFacts } from './command-facts.js';
import type { SqlFacts } from './sql-facts.js';
import type { DriftTolerance } from './sql-preview.js';
import type { ApproverRef } from './identity.js';
import type { GrantBounds } from './counter-spec.js';
import type { HistoryView, TallyEntry } from './history-types.js';
import type { CompiledCounter } from './policy-counters.js';

/** Policy outcomes, strictest last: deny > review > allow. */
export const OUTCOMES = ['allow', 'review', 'deny'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface ReviewSpec {
  approvers: ApproverRef[];
  quorum: number;
  timeoutMs: number;
  escalate?: { afterMs: number; to: ApproverRef[] };
  /** For sql actions: how far execution may stray from the approved preview's row counts (absent: not at all). */
  drift?: DriftTolerance;
  /** What a grant given with an approval may cover (absent: approvals of this rule cannot grant). */
  grants?: GrantBounds;
}

/** The decision the policy makes for one action; recorded with the action and in the audit log. */
export interface Decision {
  outcome: Outcome;
  /** Ids of the rules that fired (`default` when none did). */
  rules: string[];
  policyVersion: string;
  reason: string;
  /** One per fired review rule (or the default); all must be met. Empty unless outcome is review. */
  requirements: Array<ReviewSpec & { ruleId: string }>;
  /** What the policy would have decided with its shadow rules enforced; set when a shadow rule fired. */
  shadow?: ShadowResult | undefined;
  /** Set when a standing grant turned a review into this allow. */
  grant?: GrantUse | undefined;
}

export interface ShadowResult {
  /** The shadow rules that fired, in policy order. */
  rules: string[];
  outcome: Outcome;
  /** True when that outcome differs from the enforced one. */
  disagrees: boolean;
}

export interface GrantUse {
  id: string;
  /** Which use this was (1 = the first after the approval that created it). */
  use: number;
  /** The outcome the policy decided before the grant applied. */
  policyOutcome: Outcome;
}

/** What policy sees about the target: configured facts, never secrets. */
export interface TargetFacts {
  name: string;
  kind: string;
  host?: string;
  labels: Record<string, string>;
  /** The content-type an http target injects (a public header): it replaces the agent's, so the body is read by it. */
  contentType?: string | undefined;
}

export interface EvaluationInput {
  action: {
    kind: string;
    target: string;
    input: Record<string, unknown>;
    justification?: string | undefined;
    context?: Record<string, unknown> | undefined;
    onBehalfOf?: string | undefined;
    mode: string;
  };
  requester: { id: string; type: 'agent' | 'human'; owner?: string | undefined; labels: Record<string, string> };
  target: TargetFacts;
  /**
   * What the gateway knows about the action besides the agent's input: for `mcp`, the
   * server's tool annotations. Never taken from the agent, which could claim anything.
   */
  hints?: EvaluationHints | undefined;
  /** Counters, first times and the time of day, from the gateway (history-types.ts). */
  history?: HistoryView | undefined;
}

export interface EvaluationHints {
  /** MCP tool annotations (readOnlyHint, destructiveHint...) as the server declared them. */
  annotations?: Record<string, unknown> | undefined;
  /** For `sql`: the facts PostgreSQL's parser found in the statement (computed by the gateway, once per submission). */
  sql?: SqlFacts | undefined;
  /** For `command`: the program and its arguments as the program's preset reads them (`cmd.*`). */
  command?: CommandFacts | undefined;
}

/** Which part of a rule's `match` did not hold. */
export const MATCH_PARTS = ['kind', 'target', 'requester', 'labels'] as const;
export type MatchPart = (typeof MATCH_PARTS)[number];

/** Why one rule did or did not fire, for `policy explain`. */
export interface RuleTrace {
  ruleId: string;
  /** Line of the rule in the policy file. */
  line?: number | undefined;
  outcome: Outcome;
  match: { held: true } | { held: false; failed: MatchPart };
  /** Absent when the rule has no `when` or its match did not hold. */
  condition?: { expression: string; value: unknown } | { expression: string; error: string } | undefined;
  fired: boolean;
  requirement?: ReviewSpec | undefined;
}

export interface PolicyTrace {
  decision: Decision;
  /** Every rule, in policy order. */
  rules: RuleTrace[];
}

export interface CompiledPolicy {
  readonly version: string;
  readonly ruleCount: number;
  evaluate(input: EvaluationInput): Decision;
  /** The same decision as `evaluate`, reached by checking every rule, with a per-rule trace. */
  explain(input: EvaluationInput): PolicyTrace;
  /** The counters the policy declares (policy-counters.ts). */
  readonly counters: readonly CompiledCounter[];
  /** Whether any condition reads counters or history: only then must the gateway keep them fresh. */
  readonly readsHistory: boolean;
  /** The counter hits this action will make once allowed (or executed). */
  tally(input: EvaluationInput): TallyEntry[];
  /** A digest of one rule as written (or of the default): a grant ends when its rule's digest changes. */
  ruleDigest(ruleId: string): string | undefined;
}
