import type { ActionEvents } from './action-events.js';

/**
 * The long polls and MCP holds waiting on actions, indexed by action id. A committed
 * change wakes the waiters of its action with one lookup; before, every waiter was its
 * own listener of every event, so 10,000 waiters approved in bulk cost 10^8 listener
 * calls on the event loop (docs/reliability.md, many waiters).
 */
export interface ActionWaiters {
  /** Resolves when the action changes (here, or on another replica through `remoteChanges`), after `ms`, or on abort. */
  changeOrTimeout(id: string, ms: number, signal?: AbortSignal): Promise<void>;
  /** Waiters registered now (for tests and metrics). */
  size(): number;
}

export function createActionWaiters(events: ActionEvents, remoteChanges?: (fn: (ids: string[]) => void) => () => void): ActionWaiters {
  const byId = new Map<string, Set<() => void>>();
  let subscribed = false;

  function wake(id: string): void {
    const set = byId.get(id);
    if (!set) return;
    byId.delete(id);
    for (const done of set) done();
  }

  // Once, at the first wait, for the life of the process (as the listeners were before).
  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    events.subscribe((e) => wake(e.action.id));
    remoteChanges?.((ids) => {
      for (const id of ids) wake(id);
    });
  }

  return {
    changeOrTimeout(id, ms, signal) {
      subscribe();
      return new Promise((resolve) => {
        let set = byId.get(id);
        if (!set) byId.set(id, (set = new Set()));
        const done = () => {
          clearTimeout(timer);
          const mine = byId.get(id);
          if (mine?.delete(done) && mine.size === 0) byId.delete(id);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        set.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    },
    size() {
      let n = 0;
      for (const set of byId.values()) n += set.size;
      return n;
    },
  };
}
