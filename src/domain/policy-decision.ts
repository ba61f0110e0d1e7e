import { formatDuration } from './duration.js';
import { approvalsText } from './policy-rule.js';
import type { CompiledRule } from './policy-rule.js';
import { DEFAULT_RULE_ID } from './policy-spec.js';
import type { OutcomeSpec } from './policy-spec.js';
import type { Decision, Outcome, ReviewSpec } from './policy-types.js';

/** A rule that fired; `error` is set when it fired because its condition failed (fail closed). */
export interface Firing {
  rule: CompiledRule;
  error: string | undefined;
}

const RANK: Record<Outcome, number> = { allow: 0, review: 1, deny: 2 };

export function stricter(a: Outcome, b: Outcome): Outcome {
  return RANK[b] > RANK[a] ? b : a;
}

/** When no default is written, unmatched actions are denied. */
export const IMPLICIT_DEFAULT: OutcomeSpec = { outcome: 'deny' };

/**
 * The decision from the rules that fired, in policy order: the strictest outcome
 * wins; under review, every fired review rule adds its requirement; with none fired,
 * the default applies.
 */
export function decide(fired: readonly Firing[], def: OutcomeSpec, policyVersion: string): Decision {
  if (fired.length === 0) {
    const requirements = def.outcome === 'review' && def.review ? [requirement(DEFAULT_RULE_ID, def.review)] : [];
    return { outcome: def.outcome, rules: [DEFAULT_RULE_ID], policyVersion, reason: `no rule matched: default ${def.outcome}${def.reason ? `: ${def.reason}` : ''}`, requirements };
  }
  let outcome: Outcome = 'allow';
  for (const f of fired) outcome = stricter(outcome, f.rule.outcome);
  const rules: string[] = [];
  const requirements: Decision['requirements'] = [];
  const parts: string[] = [];
  for (const f of fired) {
    rules.push(f.rule.id);
    if (f.rule.outcome !== outcome) continue;
    if (outcome === 'review' && f.rule.review) requirements.push(requirement(f.rule.id, f.rule.review));
    parts.push(f.error === undefined ? f.rule.summary : `${f.rule.summary} [its condition failed, so it applies: ${f.error}]`);
  }
  const verb = outcome === 'deny' ? 'denied by' : outcome === 'review' ? 'review required by' : 'allowed by';
  return { outcome, rules, policyVersion, reason: `${verb} ${parts.join(outcome === 'allow' ? ', ' : '; ')}`, requirements };
}

/** A fresh copy per decision: the caller stores and may extend it. */
function requirement(ruleId: string, r: ReviewSpec): ReviewSpec & { ruleId: string } {
  const out: ReviewSpec & { ruleId: string } = { ruleId, approvers: [...r.approvers], quorum: r.quorum, timeoutMs: r.timeoutMs };
  if (r.escalate) out.escalate = { afterMs: r.escalate.afterMs, to: [...r.escalate.to] };
  if (r.drift) out.drift = { ...r.drift };
  if (r.grants) out.grants = { ...r.grants, scope: [...r.grants.scope] };
  return out;
}

export function requirementText(r: ReviewSpec): string {
  const esc = r.escalate ? `, escalating after ${formatDuration(r.escalate.afterMs)} to ${r.escalate.to.join(', ')}` : '';
  return `${approvalsText(r)} within ${formatDuration(r.timeoutMs)}${esc}`;
}
