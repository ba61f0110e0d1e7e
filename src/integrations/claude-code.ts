import type { ActionRequest } from '../domain/action.js';
import type { ActionRecord } from '../domain/action-record.js';
import type { HeldOutcome } from '../services/held-call-service.js';

/** The fields of Claude Code's PreToolUse hook input that Countersign reads (others are ignored). */
export interface PreToolUseInput {
  session_id?: string;
  transcript_path?: string;
  cwd?: string;
  permission_mode?: string;
  hook_event_name?: string;
  tool_name: string;
  tool_input: Record<string, unknown>;
  tool_use_id?: string;
}

export type PermissionDecision = 'allow' | 'deny' | 'ask';

export interface PreToolUseOutput {
  hookSpecificOutput: { hookEventName: 'PreToolUse'; permissionDecision: PermissionDecision; permissionDecisionReason: string };
}

/**
 * The action for one tool use: `{kind: tool, target, input: {tool, input, cwd}}` in decide
 * mode (Claude Code runs the tool itself once allowed). A Bash `description` is the
 * model's explanation, not part of the effect: it becomes the justification, so that
 * the same command asked again has the same fingerprint.
 */
export function actionFromHook(h: PreToolUseInput, target: string): ActionRequest {
  const input = { ...h.tool_input };
  let justification: string | undefined;
  if (h.tool_name === 'Bash' && typeof input.description === 'string') {
    justification = input.description;
    delete input.description;
  }
  const context: Record<string, unknown> = {};
  if (h.session_id !== undefined) context.sessionId = h.session_id;
  if (h.permission_mode !== undefined) context.permissionMode = h.permission_mode;
  if (h.tool_use_id !== undefined) context.toolUseId = h.tool_use_id;
  return {
    kind: 'tool',
    target,
    // The directory is part of the effect (`rm -rf build` differs per project): it is in
    // the fingerprint, so an approval holds for the directory reviewers saw.
    input: { tool: h.tool_name, input, ...(h.cwd !== undefined ? { cwd: h.cwd } : {}) },
    mode: 'decide',
    ...(justification !== undefined ? { justification: justification.slice(0, 2000) } : {}),
    context: { claudeCode: context },
  };
}

export function hookDecision(decision: PermissionDecision, reason: string): PreToolUseOutput {
  return { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: decision, permissionDecisionReason: reason } };
}

function deniedReason(a: ActionRecord): string {
  const review = a.review?.reviews.find((r) => r.verdict === 'deny');
  if (review) return `Denied by ${review.reviewer}${review.comment ? `: ${review.comment}` : ''}`;
  return `Denied by policy (rule ${a.decision.rules.join(', ')}): ${a.decision.reason}`;
}

/** What Claude Code is told. Only an approved decision allows; everything else denies (or asks, if configured for pending). */
export function hookOutputOf(outcome: HeldOutcome, link: string, onPending: 'deny' | 'ask'): PreToolUseOutput {
  const a = outcome.action;
  const ref = `Countersign action ${a.id}: ${link}`;
  if (outcome.state === 'pending') {
    return hookDecision(
      onPending,
      `Approval pending (${a.decision.rules.join(', ')}: ${a.decision.reason}). ${ref}. A reviewer approves it with \`countersign approve ${a.id}\` (or in Slack / Teams); then try the same tool call again.`,
    );
  }
  switch (a.status) {
    case 'approved':
      return hookDecision('allow', a.review ? `Approved by ${a.review.reviews.filter((r) => r.verdict === 'approve').map((r) => r.reviewer).join(', ')}. ${ref}` : `Allowed by policy (${a.decision.rules.join(', ')}). ${ref}`);
    case 'denied':
      return hookDecision('deny', `${deniedReason(a)}. ${ref}`);
    case 'expired':
      return hookDecision('deny', `The approval request expired before reviewers decided. ${ref}`);
    case 'cancelled':
    case 'pending':
    case 'running':
    case 'succeeded':
    case 'failed':
      return hookDecision('deny', `The action is ${a.status}. ${ref}`);
  }
}
