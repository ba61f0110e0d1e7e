import type { ApproverRef } from './identity.js';

/** Policy outcomes, strictest last: deny > review > allow. */
export const OUTCOMES = ['allow', 'review', 'deny'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface ReviewSpec {
  approvers: ApproverRef[];
  quorum: number;
  timeoutMs: number;
  escalate?: { afterMs: number; to: ApproverRef[] };
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
}

/** What policy sees about the target: configured facts, never secrets. */
export interface TargetFacts {
  name: string;
  kind: string;
  host?: string;
  labels: Record<string, string>;
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
}

export interface CompiledPolicy {
  readonly version: string;
  readonly ruleCount: number;
  evaluate(input: EvaluationInput): Decision;
}
