import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import type { SqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { createMetrics } from '../../src/http/metrics.js';
import { systemClock } from '../../src/ports/clock.js';
import { createActionEvents } from '../../src/services/action-events.js';

const DEPLOY = join(import.meta.dirname, '../../deploy');
const dir = mkdtempSync(join(tmpdir(), 'countersign-monitoring-'));
let store: SqliteStore;
let exposition = '';
let exported: Set<string>;

beforeAll(async () => {
  store = createSqliteStore({ path: join(dir, 'db.sqlite') });
  const registry = createMetrics(createActionEvents(), { store, channels: store.channels, clock: systemClock });
  exposition = await registry.metrics();
  exported = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Metric names in a PromQL expression; histogram series resolve to their metric. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\bcountersign_[a-z0-9_]+/g)].map((m) => m[0]);
}
const isExported = (name: string) => exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, ''));

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description?: string };
}

describe('deploy/prometheus-alerts.yaml', () => {
  const doc = parse(readFileSync(join(DEPLOY, 'prometheus-alerts.yaml'), 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
  const rules = doc.groups.flatMap((g) => g.rules);

  it('is a Prometheus rules file: every rule has a name, an expression, a severity and a summary', () => {
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^Countersign[A-Za-z]+$/);
      expect(r.expr.trim().length).toBeGreaterThan(0);
      expect(['critical', 'warning']).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(0);
      if (r.for !== undefined) expect(r.for).toMatch(/^\d+[smh]$/);
    }
  });

  it('alerts on what the issue names: reviews piling up, executions failing, checkpoints late, deliveries failing, the store unhealthy', () => {
    const names = rules.map((r) => r.alert);
    for (const n of ['CountersignPendingReviewsPilingUp', 'CountersignExecutionsFailing', 'CountersignAuditCheckpointsLate', 'CountersignDeliveriesFailing', 'CountersignStoreUnhealthy']) expect(names).toContain(n);
  });

  it('names only metrics the gateway exports', () => {
    const named = rules.flatMap((r) => metricsIn(r.expr));
    expect(named.length).toBeGreaterThan(5);
    for (const m of named) expect(isExported(m), `${m} is not exported by /metrics`).toBe(true);
  });
});

describe('deploy/grafana-dashboard.json', () => {
  const dash = JSON.parse(readFileSync(join(DEPLOY, 'grafana-dashboard.json'), 'utf8')) as { title: string; panels: Array<{ title: string; targets: Array<{ expr: string }> }>; templating: { list: Array<{ query: unknown }> } };

  it('has panels, each with a query', () => {
    expect(dash.panels.length).toBeGreaterThanOrEqual(8);
    for (const p of dash.panels) expect(p.targets.length, p.title).toBeGreaterThan(0);
  });

  it('names only metrics the gateway exports, in its panels and its variables', () => {
    const exprs = [...dash.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...dash.templating.list.map((v) => (typeof v.query === 'string' ? v.query : ''))];
    const named = exprs.flatMap(metricsIn);
    expect(named.length).toBeGreaterThan(8);
    for (const m of named) expect(isExported(m), `${m} is not exported by /metrics`).toBe(true);
  });
});

describe('the operational gauges', () => {
  it('read the store when scraped: healthy, nothing pending, nothing unsigned, no deliveries', () => {
    expect(exposition).toMatch(/^countersign_store_up 1$/m);
    expect(exposition).toMatch(/^countersign_pending_actions 0$/m);
    expect(exposition).toMatch(/^countersign_audit_unsigned_entries 0$/m);
    expect(exposition).toMatch(/^countersign_audit_oldest_unsigned_entry_age_seconds 0$/m);
    expect(exposition).toMatch(/^countersign_deliveries\{status="dead"\} 0$/m);
  });

  it('count unsigned audit entries and their age once entries are written', async () => {
    await store.appendAudit([{ type: 'policy.loaded', ts: new Date(Date.now() - 30_000).toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version: 'sha256:x' } }]);
    const registry = createMetrics(createActionEvents(), { store, channels: store.channels, clock: systemClock });
    const text = await registry.metrics();
    expect(text).toMatch(/^countersign_audit_unsigned_entries 1$/m);
    const age = Number(/^countersign_audit_oldest_unsigned_entry_age_seconds (\S+)$/m.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(30);
  });
});
