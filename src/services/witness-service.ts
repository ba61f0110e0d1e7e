import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { Witness } from '../ports/witness.js';

export interface WitnessService {
  /**
   * Pushes the checkpoints each witness has not seen yet (every one, or the latest,
   * per witness). One process at a time per witness (a lease on its cursor); a
   * failing witness is retried later with backoff and never holds up the others.
   */
  tick(): Promise<void>;
}

const LEASE_MS = 60_000;
const BATCH = 50;

export function createWitnessService(deps: {
  log: AuditLog;
  witnesses: readonly Witness[];
  origin: string;
  clock: Clock;
  /** Unique per process (the lease owner). */
  instance: string;
  onError(e: unknown, witness: string): void;
}): WitnessService {
  const { log } = deps;
  const backoff = new Map<string, { until: number; ms: number }>();

  async function pushTo(w: Witness): Promise<void> {
    const now = deps.clock.now().getTime();
    const b = backoff.get(w.name);
    if (b && b.until > now) return;
    const latest = await log.latestCheckpoint();
    if (!latest) return;
    const cursor = `witness:${w.name}`;
    const seen = await log.cursor(cursor);
    if (seen !== undefined && seen >= latest.size) return;
    let pos = await log.claimCursor(cursor, deps.instance, now, now + LEASE_MS);
    if (pos === undefined) return; // another process is on it
    try {
      const todo = w.every ? await log.listCheckpoints(pos + 1, BATCH) : [latest];
      for (const cp of todo) {
        const lines = await w.push(cp, deps.origin, { lastSize: pos, proof: (from) => log.consistencyProof(from, cp.size) });
        const at = deps.clock.now().toISOString();
        for (const line of lines) await log.addCosignature(cp.size, w.name, line, at);
        if (!(await log.advanceCursor(cursor, deps.instance, pos, cp.size))) return;
        pos = cp.size;
      }
      backoff.delete(w.name);
    } catch (e) {
      const ms = Math.min(300_000, (b?.ms ?? 500) * 2);
      backoff.set(w.name, { until: now + ms, ms });
      deps.onError(e, w.name);
    }
  }

  return {
    async tick() {
      await Promise.allSettled(deps.witnesses.map(pushTo));
    },
  };
}
