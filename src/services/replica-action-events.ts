import type { ActionRecord } from '../domain/action-record.js';
import type { ActionEvents, ActionListener } from './action-events.js';

/** How many actions' last seen versions are remembered to drop echoes of this replica's own changes. */
const SEEN_MAX = 4096;

/**
 * The changes of every replica as action events, for listeners that must see them all
 * (the console's live updates): this process's own events as they happen, and changes
 * other replicas committed (the store's notifications, which carry only ids) as
 * `changed` events with the action read back once, whatever the number of listeners.
 *
 * The store also notifies this replica's own commits; an action read back at a version
 * already seen here is dropped, so a listener gets one event per change. Notifications
 * can be lost (a dropped LISTEN connection): listeners that need completeness re-read on
 * their own (the console's live page reloads its rows on each event and on reconnect).
 */
export function createReplicaActionEvents(deps: {
  local: ActionEvents;
  watchChanges: (fn: (ids: string[]) => void) => () => void;
  getAction(id: string): Promise<ActionRecord | undefined>;
  onError(e: unknown): void;
}): Pick<ActionEvents, 'subscribe'> & { close(): void } {
  const listeners = new Set<ActionListener>();
  const seen = new Map<string, number>();
  const remember = (a: ActionRecord) => {
    if ((seen.get(a.id) ?? -1) >= a.version) return false;
    seen.delete(a.id);
    seen.set(a.id, a.version);
    if (seen.size > SEEN_MAX) seen.delete(seen.keys().next().value!);
    return true;
  };
  const emit: ActionListener = (e) => {
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        deps.onError(err);
      }
    }
  };
  let stopLocal: (() => void) | undefined;
  let stopRemote: (() => void) | undefined;
  // Subscribed to the sources only while someone listens: no reads for nobody.
  const start = () => {
    stopLocal = deps.local.subscribe((e) => {
      remember(e.action);
      emit(e);
    });
    stopRemote = deps.watchChanges((ids) => {
      for (const id of new Set(ids)) {
        deps.getAction(id).then(
          (a) => {
            if (a && remember(a)) emit({ type: 'changed', action: a });
          },
          (e: unknown) => deps.onError(e),
        );
      }
    });
  };
  const stop = () => {
    stopLocal?.();
    stopRemote?.();
    stopLocal = stopRemote = undefined;
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) start();
      return () => {
        if (listeners.delete(listener) && listeners.size === 0) stop();
      };
    },
    close() {
      listeners.clear();
      stop();
    },
  };
}
