import type { CounterHit, HistoryView } from './history-types.js';
import { counterKey } from './history-types.js';

interface Series {
  at: number[];
  weight: number[];
  ids: string[];
}

/**
 * Counter hits and first times in memory, for decisions in microseconds: a copy of
 * what the store holds (history-service.ts keeps it fresh), plus the hits of
 * decisions this process just made and has not yet seen committed. Each hit is
 * known by (action, counter), so seeing it again (from the store) adds nothing.
 */
export class CounterBook {
  private readonly series = new Map<string, Series>();
  private readonly seen = new Set<string>();
  private readonly actedPairs = new Set<string>();
  private readonly actedAgents = new Set<string>();

  add(hit: CounterHit): void {
    const id = `${hit.actionId}\u0000${hit.counter}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    const k = `${hit.counter}\u0001${hit.key}`;
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { at: [], weight: [], ids: [] }));
    // Mostly in order; an older hit (another process, replay) is put in its place.
    let i = s.at.length;
    while (i > 0 && s.at[i - 1]! > hit.atMs) i--;
    s.at.splice(i, 0, hit.atMs);
    s.weight.splice(i, 0, hit.weight);
    s.ids.splice(i, 0, hit.actionId);
  }

  /** Forgets a hit added for a decision whose action was never stored. */
  remove(actionId: string, counter: string, key: string): void {
    const id = `${actionId}\u0000${counter}`;
    if (!this.seen.delete(id)) return;
    const s = this.series.get(`${counter}\u0001${key}`);
    const i = s ? s.ids.lastIndexOf(actionId) : -1;
    if (!s || i < 0) return;
    s.at.splice(i, 1);
    s.weight.splice(i, 1);
    s.ids.splice(i, 1);
  }

  acted(agent: string, target: string): void {
    this.actedPairs.add(counterKey([agent, target]));
    this.actedAgents.add(agent);
  }

  /** Weight of hits in (now - window, now], or (now - window, ∞) with `live`. */
  count(counter: string, key: string, windowMs: number, nowMs: number, live = false): number {
    const s = this.series.get(`${counter}\u0001${key}`);
    if (!s) return 0;
    const from = nowMs - windowMs;
    let n = 0;
    for (let i = s.at.length - 1; i >= 0; i--) {
      const at = s.at[i]!;
      if (at <= from) break;
      if (live || at <= nowMs) n += s.weight[i]!;
    }
    return n;
  }

  /** Undoes `acted` for a pair that was not known before (an action that was never stored). */
  forget(agent: string, target: string): void {
    this.actedPairs.delete(counterKey([agent, target]));
    const prefix = `${agent}\u0000`;
    if (![...this.actedPairs].some((k) => k.startsWith(prefix))) this.actedAgents.delete(agent);
  }

  firstTime(agent: string, target: string | undefined): boolean {
    return target === undefined ? !this.actedAgents.has(agent) : !this.actedPairs.has(counterKey([agent, target]));
  }

  /** Drops hits at or before `beforeMs` (older than every window), to bound memory. */
  prune(beforeMs: number): void {
    for (const [k, s] of this.series) {
      let i = 0;
      while (i < s.at.length && s.at[i]! <= beforeMs) i++;
      if (i === 0) continue;
      const counter = k.slice(0, k.indexOf('\u0001'));
      for (const id of s.ids.slice(0, i)) this.seen.delete(`${id}\u0000${counter}`);
      if (i === s.at.length) this.series.delete(k);
      else {
        s.at.splice(0, i);
        s.weight.splice(0, i);
        s.ids.splice(0, i);
      }
    }
  }

  /**
   * A view at one instant, for one evaluation. `live` (a gateway deciding now) also counts
   * hits stamped after now: another replica whose clock runs ahead wrote them, and the
   * store checks the decision against every hit in the window (DecisionChecks).
   */
  view(nowMs: number, live = false): HistoryView {
    return {
      nowMs,
      count: (counter, key, windowMs) => this.count(counter, key, windowMs, nowMs, live),
      firstTime: (agent, target) => this.firstTime(agent, target),
    };
  }
}
