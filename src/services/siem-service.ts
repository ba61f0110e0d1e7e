import type { SiemContext, SiemFormat } from '../domain/siem-events.js';
import { toSiemEvent } from '../domain/siem-events.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { SiemSink } from '../ports/siem-sink.js';
import type { Store } from '../ports/store.js';

export interface SiemService {
  /**
   * Delivers, per sink, the entries after its cursor, a batch at a time, until it is
   * caught up or a delivery fails (then it backs off). The cursor (the next sequence
   * number to deliver) moves only after a delivery succeeded, so a restart resumes
   * there: at least once, in order; events carry a stable id to drop repeats. One
   * process at a time delivers to a sink (a lease). Runs beside the gate: it only
   * reads committed entries and never holds a write.
   */
  tick(): Promise<void>;
}

const LEASE_MS = 60_000;
/** Batches per sink per tick, so that one tick stays short. */
const MAX_BATCHES = 20;

export function createSiemService(deps: {
  store: Pick<Store, 'readAudit'>;
  log: AuditLog;
  sinks: ReadonlyArray<{ sink: SiemSink; format: SiemFormat; batchSize: number }>;
  context: SiemContext;
  clock: Clock;
  instance: string;
  onError(e: unknown, sink: string): void;
}): SiemService {
  const backoff = new Map<string, { until: number; ms: number }>();

  async function drain(s: { sink: SiemSink; format: SiemFormat; batchSize: number }): Promise<void> {
    const now = deps.clock.now().getTime();
    const b = backoff.get(s.sink.name);
    if (b && b.until > now) return;
    const cursor = `siem:${s.sink.name}`;
    const size = await deps.log.treeSize();
    const at = await deps.log.cursor(cursor);
    if (at !== undefined && at >= size) return;
    let pos = await deps.log.claimCursor(cursor, deps.instance, now, now + LEASE_MS);
    if (pos === undefined) return;
    try {
      for (let i = 0; i < MAX_BATCHES && pos < size; i++) {
        const entries = await deps.store.readAudit(pos, Math.min(size, pos + s.batchSize));
        if (entries.length === 0) break;
        await s.sink.deliver(entries.map((e) => toSiemEvent(s.format, e, deps.context)));
        const next = entries[entries.length - 1]!.seq + 1;
        if (!(await deps.log.advanceCursor(cursor, deps.instance, pos, next))) return;
        pos = next;
        // Yield between batches: the gate's requests go first.
        await new Promise((r) => setImmediate(r));
      }
      backoff.delete(s.sink.name);
    } catch (e) {
      const ms = Math.min(300_000, (b?.ms ?? 500) * 2);
      backoff.set(s.sink.name, { until: now + ms, ms });
      deps.onError(e, s.sink.name);
    }
  }

  return {
    async tick() {
      await Promise.allSettled(deps.sinks.map(drain));
    },
  };
}
