// What the conformance suite cannot say for every store: PostgreSQL's migrations under
// an advisory lock, the database-level guards of the log, cross-replica notifications,
// and bad conditions (connections killed under load, statement timeout, pool exhausted,
// a schema of another version, a wrong password).
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { PG_LATEST_VERSION } from '../../src/adapters/store/postgres/pg-migrations.js';
import type { PostgresStore } from '../../src/adapters/store/postgres/pg-store.js';
import { createPostgresStore } from '../../src/adapters/store/postgres/pg-store.js';
import { applyReview } from '../../src/domain/lifecycle.js';
import { rootOfLeaves } from '../../src/domain/merkle.js';
import { allEntries, at, expectMaskedStorageError, expectWellFormedLog, human, insert, newAction, range, rejectionOf, review } from './store-fixtures.js';
import { usePgDatabase } from './pg-harness.js';

const db = usePgDatabase();
const opened: PostgresStore[] = [];
const schemas: string[] = [];

function freshSchema(): string {
  const s = `s_${randomBytes(5).toString('hex')}`;
  schemas.push(s);
  return s;
}

async function open(schema: string, extra: Partial<Parameters<typeof createPostgresStore>[0]> = {}): Promise<PostgresStore> {
  const s = await createPostgresStore({ url: db().url, schema, poolMax: 4, ...extra });
  opened.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  for (const s of schemas.splice(0)) await db().query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
});

describe('PostgreSQL migrations', () => {
  it('replicas starting together migrate once: each step recorded once, all stores usable', async () => {
    const schema = freshSchema();
    const stores = await Promise.all(range(3).map(() => open(schema)));
    const rows = await db().query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    expect(rows.rows.map((r) => r.version)).toEqual(range(PG_LATEST_VERSION).map((i) => i + 1));
    await Promise.all(stores.map((s) => insert(s, newAction())));
    expectWellFormedLog(await allEntries(stores[0]!));
  });

  it('refuses a schema migrated by a newer release, says why, and leaves it untouched', async () => {
    const schema = freshSchema();
    await (await open(schema)).close();
    await db().query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES (99, 'from the future')`);
    const before = await db().query(`SELECT count(*)::int AS n FROM ${schema}.schema_migrations`);
    const e = (await rejectionOf(createPostgresStore({ url: db().url, schema }))) as Error;
    expect(e.message).toMatch(/version 99, newer than this Countersign knows/);
    expect((await db().query(`SELECT count(*)::int AS n FROM ${schema}.schema_migrations`)).rows).toEqual(before.rows);
  });

  it('a replica told not to migrate refuses an older schema and names the command that migrates it', async () => {
    const schema = freshSchema();
    const e = (await rejectionOf(createPostgresStore({ url: db().url, schema, migrate: 'never' }))) as Error;
    expect(e.message).toMatch(/version 0, older than .*countersign migrate/);
    expect((await db().query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount).toBe(0);
  });
});

describe('the log guards itself in PostgreSQL', () => {
  it('refuses UPDATE, DELETE and TRUNCATE of entries, and changes of tree nodes and checkpoints, whoever writes', async () => {
    const schema = freshSchema();
    const s = await open(schema);
    await s.appendAudit(range(20).map((i) => ({ type: 'policy.loaded', ts: at(i).toISOString(), data: { version: `v${i}` } })));
    await s.addCheckpoint({ size: 20, root: await s.rootAt(20), note: 'n\n', signedAt: at(0).toISOString() }, -1);
    for (const sql of [
      `UPDATE ${schema}.audit_entries SET type = 'x' WHERE seq = 0`,
      `DELETE FROM ${schema}.audit_entries WHERE seq = 19`,
      `TRUNCATE ${schema}.audit_entries CASCADE`,
      `UPDATE ${schema}.audit_tree_nodes SET hash = hash`,
      `DELETE FROM ${schema}.audit_checkpoints`,
    ]) {
      await expect(db().query(sql), sql).rejects.toThrow(/append-only/);
    }
    expect(await s.auditSize()).toBe(20);
  });

  it('rebuilds missing tree nodes when it opens (entries copied in without them)', async () => {
    const schema = freshSchema();
    const s = await open(schema);
    await s.appendAudit(range(40).map((i) => ({ type: 'policy.loaded', ts: at(i).toISOString(), data: { version: `v${i}` } })));
    const root = Buffer.from(await s.rootAt(40)).toString('hex');
    await s.close();
    await db().query(`ALTER TABLE ${schema}.audit_tree_nodes DISABLE TRIGGER USER`);
    await db().query(`DELETE FROM ${schema}.audit_tree_nodes`);
    await db().query(`ALTER TABLE ${schema}.audit_tree_nodes ENABLE TRIGGER USER`);
    const again = await open(schema);
    expect(Buffer.from(await again.rootAt(40)).toString('hex')).toBe(root);
    await again.appendAudit([{ type: 'policy.loaded', ts: at(50).toISOString(), data: {} }]);
    expect(await again.treeSize()).toBe(41);
  });
});

describe('several replicas on one schema', () => {
  it('tells every replica which actions changed, after commit, whichever replica wrote', async () => {
    const schema = freshSchema();
    const a = await open(schema);
    const b = await open(schema);
    const seen: string[] = [];
    const got = new Promise<void>((resolve) => {
      b.watchChanges((ids) => {
        seen.push(...ids);
        if (seen.length >= 2) resolve();
      });
    });
    // The LISTEN connection comes up in the background; a change made before it listens is not announced.
    for (let i = 0; i < 100 && !(await b.health()).ok; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    const t = newAction({ decision: review() });
    await insert(a, t);
    const r = applyReview(t.next, human('alice@example.com', 'sre'), 'approve', { fingerprint: t.next.fingerprint, via: 'api', now: at(1) });
    expect(await a.updateAction(r.next, 1, r.audit)).toBe(true);
    await got;
    expect(seen).toEqual([t.next.id, t.next.id]);
    expect((await b.getAction(t.next.id))?.status).toBe('approved');
  });

  it("sends a batch's log rows as escaped literals: quotes, backslashes and non-ASCII text come back verbatim", async () => {
    const s = await open(freshSchema());
    const odd = newAction({ id: `act-'q\\"; DROP TABLE actions; --é` });
    await Promise.all([insert(s, odd), s.appendAudit([{ type: 'policy.loaded', ts: at(1).toISOString(), data: { text: "it's \\x00 'quoted' ü" } }])]);
    const entries = await allEntries(s);
    expectWellFormedLog(entries);
    expect(entries.filter((e) => e.actionId === odd.next.id)).toHaveLength(odd.audit.length);
    expect(entries.at(-1)!.data).toEqual({ text: "it's \\x00 'quoted' ü" });
    expect((await s.getAction(odd.next.id))!.id).toBe(odd.next.id);
  });

  it('keeps one contiguous log and one tree with three replicas writing at once', async () => {
    const schema = freshSchema();
    const stores = [await open(schema), await open(schema), await open(schema)];
    await Promise.all(range(90).map((i) => insert(stores[i % 3]!, newAction())));
    const entries = await allEntries(stores[1]!);
    expect(entries).toHaveLength(180);
    expectWellFormedLog(entries);
    // Each replica's cached tree edge caught up on the others' appends: the stored nodes
    // give, from any replica, the root of the leaves at every size written.
    for (const size of [17, 64, 99, 128, 180]) {
      const want = Buffer.from(rootOfLeaves(entries.slice(0, size).map((e) => e.leafHash))).toString('hex');
      for (const s of stores) expect(Buffer.from(await s.rootAt(size)).toString('hex')).toBe(want);
    }
  });
});

describe('bad conditions', () => {
  it('survives its connections being killed under load (as a database restart does): failures are STORAGE_ERROR, nothing acknowledged is lost, it recovers by itself', async () => {
    const schema = freshSchema();
    const s = await open(schema, { poolMax: 3 });
    const acked: string[] = [];
    let failed = 0;
    const write = async () => {
      const t = newAction();
      try {
        await insert(s, t);
        acked.push(t.next.id);
      } catch (e) {
        expectMaskedStorageError(e);
        failed++;
      }
    };
    const load = Promise.all(range(200).map(async (i) => {
      await new Promise((r) => setTimeout(r, i));
      await write();
    }));
    await new Promise((r) => setTimeout(r, 60));
    await db().query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'countersign'");
    await load;
    expect(acked.length + failed).toBe(200);
    // Recovered: writes succeed again on fresh connections.
    for (let i = 0; i < 5; i++) await write();
    expect(acked.length + failed).toBe(205);
    expect((await s.health()).ok).toBe(true);
    for (const id of acked) expect(await s.getAction(id), id).toBeDefined();
    expectWellFormedLog(await allEntries(s));
  });

  it('fails closed while the database cannot be reached (writes, reads and health), and recovers by itself when it returns', async () => {
    const role = db().role('gw');
    const pw = 'gateway-password-0123';
    await db().query(`CREATE ROLE ${role} LOGIN PASSWORD '${pw}'`);
    await db().query(`GRANT CREATE ON DATABASE ${db().name} TO ${role}`);
    const schema = freshSchema();
    const s = await createPostgresStore({ url: db().urlAs(role, pw), schema, poolMax: 2, connectTimeoutMs: 2000 });
    opened.push(s);
    await insert(s, newAction());
    // The database goes away for this replica: no new connection, the open ones cut.
    await db().query(`ALTER ROLE ${role} NOLOGIN`);
    await db().query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    const lost = newAction();
    expectMaskedStorageError(await rejectionOf(insert(s, lost)));
    expectMaskedStorageError(await rejectionOf(s.getAction(lost.next.id)));
    expect(await s.health()).toEqual({ ok: false, reason: 'the PostgreSQL database cannot be reached' });
    await db().query(`ALTER ROLE ${role} LOGIN`);
    expect(await s.health()).toEqual({ ok: true });
    await insert(s, newAction());
    expect(await s.getAction(lost.next.id)).toBeUndefined();
    expectWellFormedLog(await allEntries(s));
    expect(await s.auditSize()).toBe(4);
  });

  it('fails a statement that runs past the statement timeout with STORAGE_ERROR, and goes on', async () => {
    const schema = freshSchema();
    const s = await open(schema, { statementTimeoutMs: 200 });
    await insert(s, newAction());
    // Another session holds the sequencer's row: the write waits, then is cancelled.
    const blocker = await import('pg').then((m) => new m.default.Client({ connectionString: db().url }));
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT * FROM ${schema}.audit_head FOR UPDATE`);
      expectMaskedStorageError(await rejectionOf(insert(s, newAction())));
      await blocker.query('ROLLBACK');
    } finally {
      await blocker.end();
    }
    await insert(s, newAction());
    expectWellFormedLog(await allEntries(s));
    expect(await s.auditSize()).toBe(4);
  });

  it('fails a read with STORAGE_ERROR when the pool stays exhausted past the connect timeout', async () => {
    const schema = freshSchema();
    const s = await open(schema, { poolMax: 1, connectTimeoutMs: 150 });
    // The writer holds the one connection while the sequencer is locked elsewhere.
    const blocker = await import('pg').then((m) => new m.default.Client({ connectionString: db().url }));
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT * FROM ${schema}.audit_head FOR UPDATE`);
      const stuck = insert(s, newAction());
      await new Promise((r) => setTimeout(r, 50));
      expectMaskedStorageError(await rejectionOf(s.getAction('act-x')));
      await blocker.query('ROLLBACK');
      await stuck;
    } finally {
      await blocker.end();
    }
    expect(await s.auditSize()).toBe(2);
  });

  it('a wrong password fails to open with STORAGE_ERROR whose message and details hold neither URL nor password', async () => {
    const u = new URL(db().url);
    u.password = 'wrong-secret-pw';
    const e = await rejectionOf(createPostgresStore({ url: u.toString(), schema: freshSchema(), connectTimeoutMs: 2000 }));
    expectMaskedStorageError(e);
    const visible = JSON.stringify({ message: (e as Error).message, details: (e as { details?: unknown }).details ?? null });
    expect(visible).not.toContain('wrong-secret-pw');
    expect(visible).not.toContain(u.host);
  });
});
