import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresTargetInput } from '../../src/adapters/sql/postgres-settings.js';
import { createPostgresTargets } from '../../src/adapters/sql/postgres-targets.js';
import type { ActionRecord } from '../../src/domain/action-record.js';
import type { DriftTolerance } from '../../src/domain/sql-preview.js';
import { runningAction } from '../executors/action-fixture.js';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import { SHOP_SCHEMA } from './sql-fixture.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.query(SHOP_SCHEMA);
});
afterAll(() => db.drop());

const sqlAction = (statement: string, params: Array<string | number | boolean | null> = []): ActionRecord =>
  runningAction({ target: 'db', kind: 'sql', input: { statement, params } });

function targetsFor(cfg: Partial<PostgresTargetInput> = {}) {
  return createPostgresTargets({ db: { url: db.url, ...cfg } });
}

const count = async (sql: string) => Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM (${sql}) q`)).rows[0]?.n);

describe('sql executor on PostgreSQL', () => {
  let t: ReturnType<typeof targetsFor>;
  beforeAll(() => {
    t = targetsFor({ mask: ['users.email', '*.ssn'], limits: { maxRows: 5, maxBytes: '64KiB', statementTimeout: '2s' } });
  });
  afterAll(() => t.close());

  it('runs the whole input in one transaction with params bound server side', async () => {
    const r = await t.executor.execute(sqlAction("UPDATE orders SET total = total + $1 WHERE id = $2; INSERT INTO orders VALUES (1000, 1, $1)", [5, 1]));
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect((r.body as { statements: Array<{ rowCount: number }> }).statements.map((s) => s.rowCount)).toEqual([1, 1]);
    expect(await count("SELECT 1 FROM orders WHERE id = 1000")).toBe(1);
  });

  it('a failing statement rolls back the statements before it, and the error names its SQLSTATE without row values', async () => {
    const r = await t.executor.execute(sqlAction("UPDATE users SET name = 'changed' WHERE id = 2; INSERT INTO users (id, name, email) VALUES (2, 'dup', 'leak@example.com')"));
    expect(r).toMatchObject({ ok: false, error: { code: 'EXECUTION_FAILED' }, body: { error: { code: '23505', statement: 1 } } });
    expect(JSON.stringify(r)).not.toContain('leak@example.com');
    expect(await count("SELECT 1 FROM users WHERE name = 'changed'")).toBe(0);
  });

  it('results are bounded by maxRows, flagged as truncated, and masked', async () => {
    const r = await t.executor.execute(sqlAction('SELECT id, email, upper(email) AS shout, ssn, name FROM users ORDER BY id'));
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.bodyTruncated).toBe(true);
    const s = (r.body as { statements: Array<{ rows: unknown[][]; truncated: boolean; rowCount: null }> }).statements[0]!;
    expect(s.rows).toHaveLength(5);
    expect(s.truncated).toBe(true);
    expect(s.rowCount).toBeNull();
    expect(s.rows[0]).toEqual([1, '[masked]', '[masked]', '[masked]', 'user1']);
  });

  it('values a statement copies from a masked column are masked in what it returns', async () => {
    await db.query('CREATE TABLE contacts (id int PRIMARY KEY, label text)');
    const ins = await t.executor.execute(sqlAction('INSERT INTO contacts SELECT id, email FROM users WHERE id = 7 RETURNING *'));
    expect(ins.ok, JSON.stringify(ins)).toBe(true);
    expect(JSON.stringify(ins)).not.toContain('u7@example.com');
    const upd = await t.executor.execute(sqlAction('UPDATE users SET name = email WHERE id = 8 RETURNING id, name'));
    expect(upd.ok, JSON.stringify(upd)).toBe(true);
    expect((upd.body as { statements: Array<{ rows: unknown[][] }> }).statements[0]?.rows).toEqual([[8, '[masked]']]);
  });

  it('results are bounded by maxBytes', async () => {
    const small = targetsFor({ limits: { maxRows: 1000, maxBytes: 200 } });
    try {
      const r = await small.executor.execute(sqlAction('SELECT id, name FROM users ORDER BY id'));
      const rows = (r.body as { statements: Array<{ rows: unknown[][] }> }).statements[0]!.rows;
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.length).toBeLessThan(20);
      expect(Buffer.byteLength(JSON.stringify(rows))).toBeLessThanOrEqual(200 + 2 + rows.length);
      expect(r.bodyTruncated).toBe(true);
    } finally {
      await small.close();
    }
  });

  it('a statement running past statementTimeout is cancelled and nothing is committed, even when it lifts the timeout itself', async () => {
    const r = await t.executor.execute(sqlAction("UPDATE users SET name = 'slow' WHERE id = 3; SET LOCAL statement_timeout = 0; SELECT pg_sleep(30)"));
    expect(r).toMatchObject({ ok: false, reason: 'timeout', error: { code: 'TIMEOUT' } });
    expect(await count("SELECT 1 FROM users WHERE name = 'slow'")).toBe(0);
  });

  it('transaction control in the input is refused before anything runs', async () => {
    const r = await t.executor.execute(sqlAction("UPDATE users SET name = 'x' WHERE id = 4; COMMIT; DELETE FROM users"));
    expect(r).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await count('SELECT 1 FROM users')).toBe(20);
  });

  it('a data error quoting a masked value does not reveal it', async () => {
    const r = await t.executor.execute(sqlAction('SELECT email::int FROM users WHERE id = 6'));
    expect(r).toMatchObject({ ok: false, body: { error: { code: '22P02' } } });
    expect(JSON.stringify(r)).not.toContain('u6@example.com');
    expect(r.error?.message).toContain('[masked]');
  });

  it('COPY through the connection is refused before anything runs', async () => {
    const r = await t.executor.execute(sqlAction("UPDATE users SET name = 'copy' WHERE id = 5; COPY users TO STDOUT"));
    expect(r).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(r.error?.message).toMatch(/statement 2: COPY/);
    expect(await count("SELECT 1 FROM users WHERE name = 'copy'")).toBe(0);
  });

  it('never puts the connection URL or its password in a result or an error', async () => {
    const wrong = createPostgresTargets({ db: { url: db.url.replace(`:${db.cluster.port}/`, ':1/') } });
    const badPw = createPostgresTargets({ db: { url: db.url.replace(encodeURIComponent(db.cluster.password), 'not-the-password-xyz') } });
    try {
      const results = [
        await wrong.executor.execute(sqlAction('SELECT 1')),
        await badPw.executor.execute(sqlAction('SELECT 1')),
        await t.executor.execute(sqlAction('SELECT * FROM no_such_table')),
        await t.executor.execute(sqlAction('SELECT current_setting($1)', ['no.such'])),
      ];
      for (const r of results) {
        expect(r.ok).toBe(false);
        const text = JSON.stringify(r);
        expect(text).not.toContain(db.cluster.password);
        expect(text).not.toContain(encodeURIComponent(db.cluster.password));
        expect(text).not.toContain('not-the-password-xyz');
        expect(text).not.toContain('postgres://');
      }
      expect(results[0]?.error?.code).toBe('CONNECTION_FAILED');
      expect(results[1]?.error?.code).toBe('CONNECTION_FAILED');
    } finally {
      await wrong.close();
      await badPw.close();
    }
  });
});

describe('drift: execution is compared with the approved preview before COMMIT', () => {
  let t: ReturnType<typeof targetsFor>;
  beforeAll(() => {
    t = targetsFor();
  });
  afterAll(() => t.close());

  const approved = async (statement: string, drift?: DriftTolerance) => {
    const a = sqlAction(statement);
    const preview = await t.previewer.preview({ target: 'db', input: a.input });
    expect(preview.status, preview.reason).toBe('ok');
    return { ...a, preview, ...(drift ? { drift } : {}) };
  };

  it('a row inserted between preview and execution changes the count: rolled back, nothing changed, both figures recorded', async () => {
    const a = await approved('DELETE FROM orders WHERE total >= 390');
    expect(a.preview.summary.rows).toEqual([2]);
    await db.query('INSERT INTO orders VALUES (5000, 1, 9999)');
    const before = await db.dump();
    const r = await t.executor.execute(a);
    expect(r).toMatchObject({ ok: false, reason: 'drift', error: { code: 'DRIFT' }, body: { drift: { kind: 'rows', statement: 0, approved: 2, actual: 3 } } });
    expect(r.error?.message).toMatch(/2 row.*3/);
    expect(await db.dump()).toBe(before);
  });

  it('within the policy\'s tolerance it commits', async () => {
    const a = await approved("UPDATE users SET name = name || '!' WHERE id > 10", { kind: 'absolute', value: 2 });
    await db.query("INSERT INTO users (id, name) VALUES (500, 'late')");
    const r = await t.executor.execute(a);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(await count("SELECT 1 FROM users WHERE name LIKE '%!'")).toBe(11);
  });

  it('DDL runs when its schema change is the approved one, and is refused when it would change more', async () => {
    await db.query('CREATE TABLE archive (id int PRIMARY KEY, note text)');
    const same = await approved('ALTER TABLE archive ADD COLUMN kept boolean');
    const ok = await t.executor.execute(same);
    expect(ok.ok, JSON.stringify(ok)).toBe(true);
    const drop = await approved('DROP TABLE archive CASCADE');
    // Between approval and execution, a view comes to depend on the table: CASCADE would drop it too.
    await db.query('CREATE VIEW archive_notes AS SELECT note FROM archive');
    const before = await db.dump();
    const r = await t.executor.execute(drop);
    expect(r).toMatchObject({ ok: false, reason: 'drift', error: { code: 'DRIFT' }, body: { drift: { kind: 'schema' } } });
    expect(await db.dump()).toBe(before);
  });

  it('a preview that timed out or failed approves no figure: execution is refused', async () => {
    const a = sqlAction('DELETE FROM orders WHERE id = 7');
    const timedOut: ActionRecord = { ...a, preview: { mode: 'rollback', status: 'timeout', statements: [], summary: { rows: [] }, tookMs: 1 } };
    const r = await t.executor.execute(timedOut);
    expect(r).toMatchObject({ ok: false, error: { code: 'PREVIEW_UNAVAILABLE' } });
    expect(await count('SELECT 1 FROM orders WHERE id = 7')).toBe(1);
  });
});
