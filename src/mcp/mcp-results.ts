import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ActionRecord } from '../domain/action-record.js';
import { unreachable } from '../domain/status.js';

/** `_meta` keys the gateway adds to its own results, so that clients can read them without parsing text. */
const META = 'countersign/action';

function meta(a: ActionRecord, link: string): CallToolResult['_meta'] {
  return { [META]: { id: a.id, status: a.status, link } };
}

function errorResult(text: string, a: ActionRecord | undefined, link: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }], ...(a ? { _meta: meta(a, link) } : {}) };
}

export function linkOf(publicUrl: string, a: ActionRecord): string {
  return `${publicUrl}/v1/actions/${a.id}`;
}

/** A tool error for a call the gateway refused before any action existed (bad input, unknown tool, no policy). */
export function refusedResult(code: string, message: string): CallToolResult {
  return errorResult(`Countersign refused this call [${code}]: ${message}`, undefined, '');
}

/** Still waiting for humans: a clear result, never a timeout. */
export function pendingResult(a: ActionRecord, link: string): CallToolResult {
  const why = a.status === 'pending' ? `needs approval (${a.decision.rules.join(', ')}: ${a.decision.reason})` : `is ${a.status}`;
  return errorResult(
    `Approval pending: this call ${why}. Action ${a.id}: ${link}\n` +
      'It has not run yet. Call this tool again with exactly the same arguments to get its outcome once reviewers decide.',
    a,
    link,
  );
}

/** The outcome of a settled call, as the agent sees it. */
export function settledResult(a: ActionRecord, link: string): CallToolResult {
  switch (a.status) {
    case 'succeeded':
    case 'failed': {
      const body = a.result?.body;
      if (a.result?.bodyEncoding === 'json' && body && typeof body === 'object' && Array.isArray((body as { content?: unknown }).content)) {
        return body as CallToolResult;
      }
      const err = a.result?.error;
      return errorResult(`The call failed${err ? ` [${err.code}]: ${err.message}` : ''}. Action ${a.id}: ${link}`, a, link);
    }
    case 'denied': {
      const review = a.review?.reviews.find((r) => r.verdict === 'deny');
      if (review) return errorResult(`Denied by ${review.reviewer}${review.comment ? `: ${review.comment}` : ''}. Action ${a.id}: ${link}`, a, link);
      return errorResult(`Denied by policy (rule ${a.decision.rules.join(', ')}): ${a.decision.reason}. Action ${a.id}: ${link}`, a, link);
    }
    case 'expired':
      return errorResult(`The approval request expired before reviewers decided; the call did not run. Action ${a.id}: ${link}`, a, link);
    case 'cancelled':
      return errorResult(`The approval request was cancelled; the call did not run. Action ${a.id}: ${link}`, a, link);
    case 'pending':
    case 'approved':
    case 'running':
      return pendingResult(a, link);
    default:
      return unreachable(a.status);
  }
}
