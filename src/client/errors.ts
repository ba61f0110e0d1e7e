/** An error returned by the Countersign API, with its stable code (see docs/api.md). */
export class CountersignError extends Error {
  constructor(
    readonly code: string,
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
