import type { ExecutionResult } from './action-record.js';

/**
 * Stable codes of execution failures (`result.error.code`). They are stored results,
 * not thrown errors, so they live apart from the HTTP error catalog; codes shared with
 * it (TARGET_NOT_FOUND, UNSAFE_REQUEST...) mean the same thing.
 */
export const EXECUTION_FAILURE_CODES = [
  // refused before anything is sent
  'TARGET_NOT_FOUND',
  'KIND_MISMATCH',
  'NOT_RUNNING',
  'FINGERPRINT_MISMATCH',
  'VALIDATION_FAILED',
  'UNSAFE_REQUEST',
  'AMBIGUOUS_BODY',
  // during or after sending
  'REDIRECT_REFUSED',
  'TIMEOUT',
  'ABORTED',
  'CONNECTION_FAILED',
  'EXECUTION_FAILED',
  'INTERRUPTED',
  // sql: the effect differs from the approved preview (rolled back), or there is no approved figure to compare with
  'DRIFT',
  'PREVIEW_UNAVAILABLE',
] as const;
export type ExecutionFailureCode = (typeof EXECUTION_FAILURE_CODES)[number];

export type ExecutorResult = Omit<ExecutionResult, 'startedAt' | 'finishedAt'>;

/** `reason` is a short word for the two causes people search for, else the code. */
function reasonOf(code: ExecutionFailureCode): string {
  switch (code) {
    case 'TIMEOUT':
      return 'timeout';
    case 'ABORTED':
      return 'aborted';
    case 'INTERRUPTED':
      return 'interrupted';
    case 'DRIFT':
      return 'drift';
    case 'TARGET_NOT_FOUND':
    case 'KIND_MISMATCH':
    case 'NOT_RUNNING':
    case 'FINGERPRINT_MISMATCH':
    case 'VALIDATION_FAILED':
    case 'UNSAFE_REQUEST':
    case 'AMBIGUOUS_BODY':
    case 'REDIRECT_REFUSED':
    case 'CONNECTION_FAILED':
    case 'EXECUTION_FAILED':
    case 'PREVIEW_UNAVAILABLE':
      return code;
    default: {
      const never: never = code;
      return String(never);
    }
  }
}

/** A failed result; `extra` carries what is known of a response (status, headers). */
export function executionFailure(code: ExecutionFailureCode, message: string, extra: Partial<ExecutorResult> = {}): ExecutorResult {
  return { ...extra, ok: false, reason: reasonOf(code), error: { code, message } };
}
