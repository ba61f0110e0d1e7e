import { AppError, isAppError } from '../domain/errors.js';
import { escalateAction, expireAction } from '../domain/lifecycle.js';
import type { Clock } from '../ports/clock.js';
import type { Notifier } from '../ports/notifier.js';
import type { Store } from '../ports/store.js';
import type { ExecutionService } from './execution-service.js';
import { mutateAction } from './mutate.js';

/**
 * Expiries, escalations and recovery, found in the store on every tick: no timer
 * lives only in memory, so they survive restarts and work with several processes.
 */
export interface SchedulerService {
  tick(): Promise<{ expired: number; escalated: number; interrupted: number; dispatched: number }>;
}

const BATCH = 200;

export function createSchedulerService(deps: { store: Store; clock: Clock; notifier: Notifier; executions: ExecutionService }): SchedulerService {
  const { store, clock, notifier } = deps;

  /** Runs a transition; a lost race (the action moved on) is not an error. */
  async function attempt(fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (e) {
      if (isAppError(e) && (e.code === 'NOT_PENDING' || e.code === 'NOT_FOUND')) return false;
      throw e;
    }
  }

  return {
    async tick() {
      const now = clock.now().toISOString();
      let expired = 0;
      let escalated = 0;
      for (const a of await store.dueForExpiry(now, BATCH)) {
        const ok = await attempt(async () => {
          const { result } = await mutateAction(store, a.id, (cur) => expireAction(cur, clock.now()));
          notifier.notify({ type: 'changed', action: result.next });
        });
        if (ok) expired++;
      }
      for (const a of await store.dueForEscalation(now, BATCH)) {
        const ok = await attempt(async () => {
          const { result } = await mutateAction(store, a.id, (cur) => {
            const t = escalateAction(cur, clock.now());
            // Caught by attempt() as a lost race: the message is never shown (an equivalent mutant).
            if (t.escalated.length === 0) throw new AppError('NOT_PENDING', 'nothing due');
            return t;
          });
          notifier.notify({ type: 'escalated', action: result.next, escalated: result.escalated });
        });
        if (ok) escalated++;
      }
      const r = await deps.executions.recover();
      return { expired, escalated, ...r };
    },
  };
}
