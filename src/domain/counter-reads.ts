import type { HistoryView } from './history-types.js';

/** A counter read by a decision (ports/history-store.ts CounterRead, built here without I/O). */
export interface RecordedRead {
  counter: string;
  key: string;
  sinceMs: number;
  seen: number;
}

/**
 * The view an evaluation reads, noting each counter it reads and what it saw, so that the
 * store can check at write time that no hit the decision did not know of arrived since.
 */
export function recordingView(view: HistoryView): { view: HistoryView; reads(): RecordedRead[] } {
  const seen = new Map<string, RecordedRead>();
  return {
    view: {
      nowMs: view.nowMs,
      count(counter, key, windowMs) {
        const n = view.count(counter, key, windowMs);
        seen.set(`${counter}\u0000${key}\u0000${windowMs}`, { counter, key, sinceMs: view.nowMs - windowMs, seen: n });
        return n;
      },
      firstTime: (agent, target) => view.firstTime(agent, target),
    },
    reads: () => [...seen.values()],
  };
}
