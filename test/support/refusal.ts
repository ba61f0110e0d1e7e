import { AppError } from '../../src/domain/errors.js';

/** The AppError `fn` refuses with; anything else it throws, or no refusal at all, fails the test. */
export function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}
