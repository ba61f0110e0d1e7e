import type { ErrorCode } from '../domain/errors.js';

/**
 * Codes a CountersignError carries: the API's error codes (docs/api.md), `UNAVAILABLE`
 * when the gateway cannot be reached, `HTTP_<status>` for an answer that is not the
 * API's, and the outcomes of a gated call: `DENIED`, `EXPIRED`, `CANCELLED`, `PENDING`.
 */
export type CountersignErrorCode = ErrorCode | 'UNAVAILABLE' | 'DENIED' | 'EXPIRED' | 'CANCELLED' | 'PENDING' | `HTTP_${number}`;

/** An error returned by the Countersign API, with its stable code (see docs/api.md). */
export class CountersignError extends Error {
  constructor(
    readonly code: CountersignErrorCode,
    message: string,
    readonly status: number,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CountersignError';
  }
}

/** The gateway could not be reached, or answered something that is not the API. */
export class CountersignUnavailableError extends CountersignError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message, 0);
    this.name = 'CountersignUnavailableError';
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/**
 * A gated call that did not get approval: denied (by policy or a reviewer), expired,
 * cancelled, or still pending when the caller stopped waiting. `actionId` names it.
 */
export class CountersignNotApprovedError extends CountersignError {
  constructor(
    code: 'DENIED' | 'EXPIRED' | 'CANCELLED' | 'PENDING',
    message: string,
    readonly actionId: string,
  ) {
    super(code, message, 0, { actionId });
    this.name = 'CountersignNotApprovedError';
  }
}

export function isCountersignError(e: unknown, code?: CountersignErrorCode): e is CountersignError {
  return e instanceof Error && e.name.startsWith('Countersign') && typeof (e as { code?: unknown }).code === 'string' && (code === undefined || (e as CountersignError).code === code);
}
