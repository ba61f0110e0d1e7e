// PGlite stands in for PostgreSQL on machines without it: this measures that, for what the
// demo shows, it behaves like the real server. The same demo config, policy and
// statements run through a real gateway against both; previews, results and the table
// afterwards must be the same.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SQL } from '../cli/demo-database-step.js';
import { createClient } from '../client/client.js';
import type { CountersignClient } from '../client/client.js';
import type { Action } from '../client/types.js';
import { sqlPreviewOf } from '../domain/action-record.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import type { Gateway } from '../app/main.js';
import { startGateway } from '../app/main.js';
import { demoEnv, demoIdentities, writeDemoFiles } from './demo-files.js';
import type { SampleDatabase } from './sample-database.js';
import { startSampleDatabase } from './sample-database.js';

interface Run {
  db: SampleDatabase;
  gw: Gateway;
  dir: string;
  agent: CountersignClient;
  bob: CountersignClient;
}

const ENGINES = ['postgres', 'pglite'] as const;
const runs = new Map<string, Run>();

async function start(engine: (typeof ENGINES)[number]): Promise<Run> {
  const db = await startSampleDatabase({ engine });
  const dir = mkdtempSync(join(tmpdir(), `countersign-sample-db-${engine}-`));
  const ids = demoIdentities();
  // The http target is not used here; an unroutable URL keeps it that way.
  const { configPath } = writeDemoFiles(dir, 'http://127.0.0.1:9', db.poolSize);
  const gw = await startGateway(loadConfig(configPath, { ...process.env, ...demoEnv(ids, db.url) }), { logger: createLogger('error') });
  const client = (token: string) => createClient({ url: gw.url, token });
  return { db, gw, dir, agent: client(ids.agentToken), bob: client(ids.bobToken) };
}

async function table(url: string): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<Record<string, unknown>>('SELECT id, name, email, plan, churned FROM customers ORDER BY id')).rows;
  } finally {
    await c.end();
  }
}

/** What a reviewer is shown, without the timing. */
function previewOf(a: Action) {
  expect(a.preview, `${a.id} has a preview`).toBeDefined();
  const { tookMs, ...rest } = sqlPreviewOf(a)!;
  expect(tookMs).toBeGreaterThanOrEqual(0);
  return rest;
}

const both = async <T>(fn: (r: Run) => Promise<T>): Promise<[T, T]> => [await fn(runs.get('postgres')!), await fn(runs.get('pglite')!)];

beforeAll(async () => {
  for (const e of ENGINES) runs.set(e, await start(e));
}, 180_000);

afterAll(async () => {
  for (const r of runs.values()) {
    await r.gw.close();
    await r.db.close();
    rmSync(r.dir, { recursive: true, force: true });
  }
});

describe('the demo database on PGlite behaves like PostgreSQL for what the demo shows', () => {
  it('both hold the same seeded table', async () => {
    const [real, lite] = await both((r) => table(r.db.url));
    expect(real).toHaveLength(8);
    expect(lite).toEqual(real);
  });

  it('the read: allowed, the same rows, the email masked on both', async () => {
    const [real, lite] = await both(async (r) => {
      const a = await r.agent.submit({ kind: 'sql', target: 'shop-db', input: { statement: DEMO_SQL.read } });
      expect(a.decision.rules).toEqual(['db-reads']);
      return (await r.agent.wait(a.id, { timeoutSeconds: 30 })).result;
    });
    expect(real?.ok).toBe(true);
    expect(JSON.stringify(real?.body)).toContain('[masked]');
    expect(JSON.stringify(real?.body)).not.toContain('@example.com');
    expect(lite?.body).toEqual(real?.body);
  });

  it('the UPDATE: held with the same preview (3 rows, before and after), and while its rollback preview ran, concurrent reads saw the table unchanged', async () => {
    const [real, lite] = await both(async (r) => {
      // Reads through the gateway's pool while the preview's transaction is open: on
      // PostgreSQL MVCC hides the uncommitted UPDATE; on PGlite (one backend) pglite-socket
      // must queue the other connections until the rollback.
      const reads = Array.from({ length: 4 }, () => r.agent.submit({ kind: 'sql', target: 'shop-db', input: { statement: 'SELECT plan FROM customers WHERE id = 2' } }));
      const held = await r.agent.submit({ kind: 'sql', target: 'shop-db', input: { statement: DEMO_SQL.update } });
      const seen = await Promise.all((await Promise.all(reads)).map(async (a) => (await r.agent.wait(a.id, { timeoutSeconds: 30 })).result?.body));
      for (const b of seen) expect(JSON.stringify(b)).toContain('"pro"');
      expect(held.status).toBe('pending');
      expect(held.decision.rules).toEqual(['db-writes']);
      // The agent sees the figures only; the approver sees the sample rows.
      expect(sqlPreviewOf(held)?.statements[0]?.samplesHidden).toBe(true);
      return r.bob.get(held.id);
    });
    const p = previewOf(real);
    expect(p.status).toBe('ok');
    expect(p.statements[0]).toMatchObject({ type: 'update', rows: 3 });
    expect(p.statements[0]?.before).toHaveLength(3);
    expect(JSON.stringify(p.statements[0]?.after)).toContain('"free"');
    expect(previewOf(lite)).toEqual(p);
    // Nothing changed yet: the preview was rolled back on both.
    const [beforeReal, beforeLite] = await both((r) => table(r.db.url));
    expect(beforeReal.filter((x) => (x as { plan: string }).plan === 'free')).toHaveLength(2);
    expect(beforeLite).toEqual(beforeReal);

    // Approved by on-call, executed: the same result and the same table afterwards.
    const [doneReal, doneLite] = await both(async (r) => {
      const a = r === runs.get('postgres') ? real : lite;
      await r.bob.approve(a.id, a.fingerprint);
      return r.agent.wait(a.id, { timeoutSeconds: 30 });
    });
    expect(doneReal.status).toBe('succeeded');
    expect(doneReal.result?.body).toMatchObject({ statements: [{ type: 'update', rowCount: 3 }] });
    expect(doneLite.result?.body).toEqual(doneReal.result?.body);
    const [afterReal, afterLite] = await both((r) => table(r.db.url));
    expect(afterReal.filter((x) => (x as { plan: string }).plan === 'free')).toHaveLength(5);
    expect(afterLite).toEqual(afterReal);
  });

  it('a schema change gets the same schema diff; a NOT NULL column differs only by the named NOT NULL constraint PostgreSQL 18 (PGlite) records', async () => {
    const [real, lite] = await both((r) => r.agent.submit({ kind: 'sql', target: 'shop-db', input: { statement: 'ALTER TABLE customers ADD COLUMN note text' } }));
    const p = previewOf(real);
    expect(p.statements[0]?.schemaChanges).toEqual([expect.objectContaining({ change: 'added', object: 'public.customers.note' })]);
    expect(previewOf(lite)).toEqual(p);

    // PostgreSQL 18 (PGlite 0.5 is 18.x) keeps NOT NULL as a named pg_constraint row, so the
    // catalog diff shows it as one more change; older servers show the column alone.
    const [nnReal, nnLite] = await both((r) => r.agent.submit({ kind: 'sql', target: 'shop-db', input: { statement: "ALTER TABLE customers ADD COLUMN tier text NOT NULL DEFAULT 'basic'" } }));
    const realChanges = previewOf(nnReal).statements[0]?.schemaChanges ?? [];
    const liteChanges = previewOf(nnLite).statements[0]?.schemaChanges ?? [];
    expect(liteChanges).toEqual(expect.arrayContaining(realChanges));
    for (const extra of liteChanges.filter((c) => !realChanges.some((x) => JSON.stringify(x) === JSON.stringify(c)))) expect(extra.detail).toMatch(/^constraint NOT NULL /);
    const [dropReal, dropLite] = await both((r) => r.agent.submit({ kind: 'sql', target: 'shop-db', input: { statement: DEMO_SQL.drop } }));
    expect(dropReal.status).toBe('denied');
    expect(dropLite.decision).toEqual(dropReal.decision);
    const [t1, t2] = await both((r) => table(r.db.url));
    expect(t2).toEqual(t1);
  });
});
