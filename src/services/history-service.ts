import type { ActionRecord } from '../domain/action-record.js';
import { CounterBook } from '../domain/counter-book.js';
import { hasActed, qualifies } from '../domain/history-types.js';
import type { HistoryView } from '../domain/history-types.js';
import type { CompiledPolicy } from '../domain/policy-types.js';
import type { Clock } from '../ports/clock.js';
import type { HistoryStore } from '../ports/history-store.js';

export interface HistoryService {
  /** The history a decision sees now, brought up to date with the store; undefined when the policy reads none. */
  view(policy: CompiledPolicy): Promise<HistoryView | undefined>;
  /**
   * Counts a just-decided action at once (before its write commits), so that the next
   * decision in this process sees it even if it starts before the commit. Returns the undo
   * for when the action is not stored.
   */
  reserve(a: ActionRecord): () => void;
}

const PAGE = 5000;
/** How often the book drops hits older than every window. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Counters and first times for decisions, in memory (CounterBook) and derived from the
 * store: at start, every hit within the longest window and every acted pair; before
 * each decision that reads history, whatever was indexed since (other processes on the
 * same store included). Counters therefore survive restarts.
 */
export function createHistoryService(deps: { store: HistoryStore; clock: Clock }): HistoryService {
  let book = new CounterBook();
  let hitCursor = 0;
  let actedCursor = 0;
  /** The window the book was loaded for: a policy with a longer one reloads it. */
  let loadedWindowMs = -1;
  let refreshing: Promise<void> | undefined;
  let lastPrune = 0;

  async function catchUp(sinceMs: number): Promise<void> {
    for (;;) {
      const r = await deps.store.readHits(hitCursor, sinceMs, PAGE);
      for (const h of r.hits) book.add(h);
      hitCursor = r.cursor;
      if (r.hits.length < PAGE) break;
    }
    for (;;) {
      const r = await deps.store.readActed(actedCursor, PAGE);
      for (const p of r.pairs) book.acted(p.agent, p.target);
      actedCursor = r.cursor;
      if (r.pairs.length < PAGE) break;
    }
  }

  async function refresh(windowMs: number, nowMs: number): Promise<void> {
    if (windowMs > loadedWindowMs) {
      // A fresh book over the longer window; reservations not yet committed are re-read once they are.
      book = new CounterBook();
      hitCursor = 0;
      actedCursor = 0;
      loadedWindowMs = windowMs;
    }
    await catchUp(nowMs - loadedWindowMs);
    if (nowMs - lastPrune > PRUNE_EVERY_MS) {
      book.prune(nowMs - loadedWindowMs);
      lastPrune = nowMs;
    }
  }

  return {
    async view(policy) {
      if (!policy.readsHistory) return undefined;
      const nowMs = deps.clock.now().getTime();
      const windowMs = policy.counters.reduce((w, c) => Math.max(w, c.windowMs), 0);
      // One read at a time: concurrent decisions share it.
      while (refreshing) await refreshing;
      refreshing = refresh(windowMs, nowMs).finally(() => (refreshing = undefined));
      await refreshing;
      return book.view(nowMs, true);
    },
    reserve(a) {
      // No decision has read history yet (the policy reads none): nothing to keep in memory.
      if (loadedWindowMs < 0) return () => {};
      const atMs = Date.parse(a.updatedAt);
      const added = (a.tally ?? []).filter((t) => qualifies(t.on, a.status));
      const b = book;
      for (const t of added) b.add({ actionId: a.id, counter: t.counter, key: t.key, weight: t.weight, atMs });
      const newPair = hasActed(a.status) && b.firstTime(a.requester.id, a.target);
      if (newPair) b.acted(a.requester.id, a.target);
      return () => {
        for (const t of added) b.remove(a.id, t.counter, t.key);
        if (newPair) b.forget(a.requester.id, a.target);
      };
    },
  };
}
