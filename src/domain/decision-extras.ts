import type { Runner } from './action-record.js';
import type { Transition } from './lifecycle.js';
import { startExecution } from './lifecycle.js';
import type { Decision, EvaluationHints, ReviewSpec } from './policy-types.js';

/** What the gateway adds to a decision besides the agent's input (never from the agent). */
export interface DecisionExtras {
  /** Facts for policy, such as an MCP tool's annotations. */
  hints?: EvaluationHints | undefined;
  /** When set, an allow becomes this review (a tool whose definition changed); deny and review stand. */
  reviewIfAllowed?: (ReviewSpec & { ruleId: string; reason: string }) | undefined;
}

/** Applies `reviewIfAllowed`: the stricter outcome always wins, so this can only tighten a decision. */
export function tightenDecision(d: Decision, extras: DecisionExtras | undefined): Decision {
  const r = extras?.reviewIfAllowed;
  if (!r || d.outcome !== 'allow') return d;
  const { ruleId, reason, ...spec } = r;
  return { ...d, outcome: 'review', rules: [...d.rules, ruleId], reason, requirements: [{ ...spec, ruleId }] };
}

/**
 * An allowed execute-mode action inserted already running: the decision and the
 * promise to run it commit in one write, before the executor is called. The record
 * is new, so it keeps version 1.
 */
export function startedAtCreation(created: Transition, now: Date, runner: Runner): Transition {
  const started = startExecution(created.next, now, runner);
  return { next: { ...started.next, version: 1 }, audit: [...created.audit, ...started.audit] };
}
