import { AppError, isAppError } from '../../domain/errors.js';

/**
 * Wraps a driver failure as `STORAGE_ERROR`. The cause stays on `cause` for the
 * server's logs and never goes into `details`, which may leave the server: driver
 * messages name tables, constraints and file paths.
 */
export function storageError(cause: unknown, message?: string): AppError {
  if (isAppError(cause)) return cause;
  const err = new AppError('STORAGE_ERROR', message);
  err.cause = cause;
  return err;
}

/** Milliseconds since the epoch of an ISO-8601 timestamp; stores compare instants, not text. */
export function instantOf(iso: string, field: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new AppError('VALIDATION_FAILED', `${field} is not a valid timestamp`, { field });
  return ms;
}

/** A non-negative integer limit (SQL engines read a negative LIMIT as "no limit"). */
export function limitOf(limit: number): number {
  return Number.isFinite(limit) && limit > 0 ? Math.floor(limit) : 0;
}
