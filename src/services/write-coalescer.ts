import type { ActionRecord } from '../domain/action-record.js';
import type { AuditDraft } from '../domain/audit-entry.js';
import type { Store } from '../ports/store.js';

/** Store methods that write: calling one first sends the deferred updates, in the same turn. */
const WRITES = new Set<PropertyKey>(['insertAction', 'updateAction', 'appendAudit', 'insertHeld', 'deliver', 'observe', 'repin', 'close']);

export interface WriteCoalescer<S extends Store> {
  /** The same store; its writes carry the deferred updates with them (one transaction with a store that batches per turn). */
  store: S;
  /**
   * A compare-and-swap update (as Store.updateAction) sent with the next write made
   * through `store`, or after `maxDelayMs`, whichever comes first. For records whose
   * durability can trail the answer (an inline execution's result): a tight loop of
   * calls then pays one commit per call instead of two.
   */
  deferUpdate(next: ActionRecord, expectedVersion: number, audit: readonly AuditDraft[]): Promise<boolean>;
}

export function createWriteCoalescer<S extends Store>(base: S, maxDelayMs = 2): WriteCoalescer<S> {
  let pending: Array<{ next: ActionRecord; expectedVersion: number; audit: readonly AuditDraft[]; resolve(p: Promise<boolean>): void }> = [];
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    for (const p of batch) p.resolve(base.updateAction(p.next, p.expectedVersion, p.audit));
  }

  const store = new Proxy(base, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (!WRITES.has(prop)) return (v as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        if (pending.length) flush();
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });

  return {
    store,
    deferUpdate(next, expectedVersion, audit) {
      return new Promise<boolean>((resolve, reject) => {
        pending.push({ next, expectedVersion, audit, resolve: (p) => void p.then(resolve, reject) });
        timer ??= setTimeout(flush, maxDelayMs);
      });
    },
  };
}
