import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { ChannelStore } from '../ports/channel-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';

/** What the operational gauges read, at scrape time. */
export interface OpsSources {
  store: Pick<Store, 'health' | 'countWithStatus' | 'auditSize' | 'readAudit'> & Pick<AuditLog, 'latestCheckpoint'>;
  channels?: Pick<ChannelStore, 'listDeliveries'> | undefined;
  /** Long polls and MCP holds waiting now (QueryService.waiting). */
  waiters?: (() => number) | undefined;
  clock: Clock;
}

/** Counting stops here: an alert needs to know "many", not exactly how many. */
const CAP = 10_000;

/**
 * Gauges read from the store when Prometheus scrapes (deploy/prometheus-alerts.yaml
 * alerts on them): the store's health, the review backlog, how long the newest audit
 * entries have waited for a signed checkpoint, and deliveries that gave up.
 */
export function registerOpsMetrics(registry: Registry, src: OpsSources): void {
  const seconds = (iso: string) => Math.max(0, (src.clock.now().getTime() - Date.parse(iso)) / 1000);
  new Gauge({
    name: 'countersign_store_up',
    help: '1 when the store answers its health check, 0 otherwise',
    registers: [registry],
    async collect() {
      this.set((await src.store.health().catch(() => ({ ok: false }))).ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'countersign_pending_actions',
    help: `Actions waiting for review (counted up to ${CAP})`,
    registers: [registry],
    async collect() {
      // Counted in the index, no record read: ten thousand held actions cost a scrape nothing.
      this.set((await src.store.countWithStatus('pending', CAP)).count);
    },
  });
  new Gauge({
    name: 'countersign_oldest_pending_action_age_seconds',
    help: 'Age of the oldest action waiting for review (0 when none)',
    registers: [registry],
    async collect() {
      const { oldestCreatedAtMs } = await src.store.countWithStatus('pending', CAP);
      this.set(oldestCreatedAtMs === undefined ? 0 : Math.max(0, (src.clock.now().getTime() - oldestCreatedAtMs) / 1000));
    },
  });
  new Gauge({
    name: 'countersign_audit_unsigned_entries',
    help: 'Audit entries no signed checkpoint covers yet',
    registers: [registry],
    async collect() {
      const size = await src.store.auditSize();
      this.set(size - ((await src.store.latestCheckpoint())?.size ?? 0));
    },
  });
  new Gauge({
    name: 'countersign_audit_oldest_unsigned_entry_age_seconds',
    help: 'How long the oldest audit entry without a signed checkpoint has waited (0 when all are signed); audit.checkpoints.maxDelay bounds it when signing works',
    registers: [registry],
    async collect() {
      const covered = (await src.store.latestCheckpoint())?.size ?? 0;
      const [first] = covered < (await src.store.auditSize()) ? await src.store.readAudit(covered, covered + 1) : [];
      this.set(first ? seconds(first.ts) : 0);
    },
  });
  if (src.waiters) {
    const waiters = src.waiters;
    new Gauge({
      name: 'countersign_waiters',
      help: 'Long polls (GET /v1/actions/{id}?wait) and MCP calls held for review, waiting on an action now',
      registers: [registry],
      collect() {
        this.set(waiters());
      },
    });
  }
  if (src.channels) {
    const channels = src.channels;
    new Gauge({
      name: 'countersign_deliveries',
      help: `Chat and webhook deliveries by status: pending (being tried) or dead (gave up); counted up to ${CAP}`,
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        for (const status of ['pending', 'dead'] as const) this.set({ status }, (await channels.listDeliveries({ status, limit: CAP })).length);
      },
    });
  }
}
