import type { ActionRecord } from '../domain/action-record.js';
import type { Notice } from './server-messages.js';

/** The NoticeResponse a client gets while its statement waits: which action, who may approve, how. */
export function reviewNotice(a: ActionRecord, approveHint: string): Omit<Notice, 'severity'> & { severity: 'NOTICE' } {
  const who = (a.review?.requirements ?? []).map((r) => `${r.quorum} of ${r.approvers.join(', ')}`).join('; ') || 'the policy\'s approvers';
  return {
    severity: 'NOTICE',
    code: '00000',
    message: `Countersign: this statement waits for review (action ${a.id}): ${who}`,
    detail: `Rules: ${a.decision.rules.join(', ') || 'default'}. ${a.decision.reason}`.trim(),
    hint: `A reviewer approves with: ${approveHint}`,
  };
}
