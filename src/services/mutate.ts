import type { ActionRecord } from '../domain/action-record.js';
import { AppError } from '../domain/errors.js';
import type { Transition } from '../domain/lifecycle.js';
import type { Store } from '../ports/store.js';

const MAX_ATTEMPTS = 8;

/**
 * Read, decide (pure), compare-and-swap; on a lost race, read again and decide
 * again on the fresh state. The decision function throws AppError to refuse, in
 * which case nothing is written.
 */
export async function mutateAction<T extends Transition>(
  store: Store,
  id: string,
  decide: (current: ActionRecord) => T,
  /** The record as this process last wrote it: tried first, without a read (the swap fails if it is stale). */
  known?: ActionRecord,
): Promise<{ before: ActionRecord; result: T }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = attempt === 0 && known?.id === id ? known : await store.getAction(id);
    if (!current) throw new AppError('NOT_FOUND', `No action ${id}`);
    const result = decide(current);
    if (await store.updateAction(result.next, current.version, result.audit)) return { before: current, result };
  }
  throw new AppError('CONFLICT');
}
