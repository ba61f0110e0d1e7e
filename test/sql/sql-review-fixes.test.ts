import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresTargets } from '../../src/adapters/sql/postgres-targets.js';
import type { ActionRecord } from '../../src/domain/action-record.js';
import type { SqlPreview } from '../../src/domain/sql-preview.js';
import { runningAction } from '../executors/action-fixture.js';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import { databaseState } from './pg-state.js';
import { previewerFor } from './sql-fixture.js';

// The independent review's cases (F1, F3-F6, F9), on its own schema.
const REVIEW_SCHEMA = `
  CREATE SEQUENCE s;
  CREATE TABLE t (id int PRIMARY KEY, a int, email text);
  INSERT INTO t SELECT g, g, 'u' || g || '@x.com' FROM generate_series(1, 10) g;
  CREATE TABLE ser (id serial PRIMARY KEY, name text);
  CREATE VIEW serv AS SELECT * FROM ser;
  CREATE FUNCTION atomic_next() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT nextval('s'); END;
  CREATE FUNCTION inner_next() RETURNS bigint LANGUAGE sql AS $$ SELECT nextval('s') $$;
  CREATE FUNCTION outer_fn() RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN inner_next(); END $$;
  CREATE FUNCTION esc_fn() RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN U&"nextv\\0061l"('s'); END $$;
  CREATE FUNCTION inner_lock() RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM (SELECT pg_advisory_lock(42)) x $$;
  CREATE FUNCTION outer_lock() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN inner_lock(); END $$;
  CREATE TABLE parent (id int PRIMARY KEY);
  CREATE TABLE child (id int PRIMARY KEY, pid int REFERENCES parent ON DELETE CASCADE);
  INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);
  CREATE FUNCTION child_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('s'); RETURN OLD; END $$;
  CREATE TRIGGER child_del BEFORE DELETE ON child FOR EACH ROW EXECUTE FUNCTION child_trg();
  CREATE TABLE checked (id int PRIMARY KEY, v int CHECK (inner_next() > 0));
  CREATE TABLE defaulted (id int PRIMARY KEY, v bigint DEFAULT inner_next());
  CREATE TABLE guarded (id int PRIMARY KEY);
  ALTER TABLE guarded ENABLE ROW LEVEL SECURITY;
  CREATE POLICY seen ON guarded USING (inner_next() > 0);
  CREATE SCHEMA other;
  CREATE TABLE other.hidden (id int);
  CREATE TRIGGER hidden_del BEFORE DELETE ON other.hidden FOR EACH ROW EXECUTE FUNCTION child_trg();
  CREATE FUNCTION public.lower(int) RETURNS text LANGUAGE sql AS $$ DELETE FROM t WHERE id = $1; SELECT 'x' $$;
`;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.query(REVIEW_SCHEMA);
});
afterAll(() => db.drop());

/** What a preview must leave as it was: the dump (rows, sequences' positions) and every advisory lock in the cluster. */
async function state(): Promise<string> {
  const locks = await db.query("SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1");
  const seq = await db.query('SELECT last_value::text, is_called FROM s');
  return `${await databaseState(db)}\n-- locks ${JSON.stringify(locks.rows)}\n-- s ${JSON.stringify(seq.rows)}`;
}

describe('previews never run code the gateway cannot check (review F3, F4)', () => {
  let rollback: ReturnType<typeof previewerFor>;
  let select: ReturnType<typeof previewerFor>;
  beforeAll(() => {
    rollback = previewerFor(db);
    select = previewerFor(db, { preview: { mode: 'select' } });
  });
  afterAll(async () => {
    await rollback.close();
    await select.close();
  });

  const rollbackCases: Array<[string, RegExp]> = [
    ['SELECT atomic_next()', /function public\.atomic_next\(\) is user code/],
    ['SELECT outer_fn()', /function public\.outer_fn\(\) is user code/],
    ['SELECT esc_fn()', /function public\.esc_fn\(\) is user code/],
    [`SELECT U&"nextv\\0061l"('s')`, /nextval\(\) advances a sequence/],
    [`DO $$BEGIN PERFORM U&"nextv\\0061l"('s'); END$$`, /DO block runs code the gateway does not check/],
    ['DO $$BEGIN PERFORM inner_next(); END$$', /DO block/],
    [`DO $$BEGIN PERFORM U&"pg_\\0061dvisory_lock"(42); END$$`, /DO block/],
    ["INSERT INTO serv(name) VALUES ('x')", /sequence|nextval/],
    ['DELETE FROM parent WHERE id = 1', /trigger child_del on public\.child runs public\.child_trg\(\)/],
    ['UPDATE checked SET v = 1', /inner_next\(\) is user code/],
    ['INSERT INTO defaulted (id) VALUES (1)', /inner_next\(\) is user code/],
    ['SELECT * FROM guarded', /inner_next\(\) is user code/],
    ['SELECT lower(9)', /function public\.lower\(\) is user code/],
    ["PREPARE evil AS DELETE FROM t WHERE id <= 4; UPDATE t SET a = a WHERE id = 1", /PREPARE, EXECUTE and DEALLOCATE/],
    ['EXPLAIN ANALYZE EXECUTE evil', /PREPARE, EXECUTE and DEALLOCATE/],
    ['SELECT pg_advisory_unlock_all()', /session lock/],
    ['SET search_path = other, public; DELETE FROM hidden', /trigger hidden_del on other\.hidden/],
    ['CREATE TABLE p3 (id int); CREATE TRIGGER p3_del BEFORE DELETE ON p3 FOR EACH ROW EXECUTE FUNCTION child_trg(); DELETE FROM p3', /child_trg\(\) is user code/],
    ['ALTER TABLE other.hidden DISABLE TRIGGER hidden_del; DELETE FROM other.hidden', /trigger hidden_del/],
    ["SELECT pg_replication_slot_advance('x', '0/0')", /replication/],
    ["SELECT lo_unlink(1)", /large objects/],
  ];

  it.each(rollbackCases)('rollback mode skips %s with the reason and changes nothing', async (statement, reason) => {
    const before = await state();
    const r = await rollback.preview(statement);
    expect(r.status, JSON.stringify(r)).toBe('skipped');
    expect(r.reason).toMatch(reason);
    expect(await state()).toBe(before);
  });

  it.each([
    ['SELECT outer_lock()', /outer_lock\(\) is user code/],
    ['UPDATE t SET a = outer_lock() WHERE id = 8', /outer_lock\(\) is user code/],
    ['SELECT esc_fn()', /esc_fn\(\) is user code/],
  ])('select mode skips %s: a session lock or a sequence step is not a write a READ ONLY transaction refuses', async (statement, reason) => {
    const before = await state();
    const r = await select.preview(statement);
    expect(r.status, JSON.stringify(r)).toBe('skipped');
    expect(r.reason).toMatch(reason);
    expect(await state()).toBe(before);
  });

  it('plain statements on the same tables are still previewed', async () => {
    const r = await rollback.preview('UPDATE t SET a = a + 1 WHERE id <= 3; SELECT upper(email) FROM t WHERE id = 1');
    expect(r.status, r.reason).toBe('ok');
    expect(r.summary.rows).toEqual([3, null]);
  });

  it('each preview runs on its own connection, destroyed afterwards: no session state reaches the next', async () => {
    const pid = async () => {
      const r = await rollback.preview('SELECT pg_backend_pid() AS pid');
      expect(r.status, r.reason).toBe('ok');
      return (r.statements[0]?.after ?? r.statements[0]?.before)?.[0]?.[0];
    };
    const first = await pid();
    const second = await pid();
    expect(first).toEqual(expect.any(Number));
    expect(second).not.toBe(first);
    // The first backend has ended (the server may take a moment to remove it: poll).
    for (let i = 0; i < 50; i++) {
      const alive = await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [first]);
      if (alive.rows.length === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`backend ${String(first)} still alive`);
  });
});

const action = (statement: string, params: Array<string | number | null> = [], extra: Partial<ActionRecord> = {}): ActionRecord => ({
  ...runningAction({ target: 'db', kind: 'sql', input: { statement, params } }),
  ...extra,
});
const readOnlyFacts = { sql: { readOnly: true } } as unknown as ActionRecord['facts'];

describe('the executor (review F1, F4, F5, F6, F9)', () => {
  let targets: ReturnType<typeof createPostgresTargets>;
  beforeAll(() => {
    targets = createPostgresTargets({ db: { url: db.url, mask: ['t.email'] } });
  });
  afterAll(() => targets.close());

  it('an action whose facts say read-only runs READ ONLY: PREPARE ...; EXPLAIN ANALYZE EXECUTE deletes nothing', async () => {
    const before = await db.dump();
    const r = await targets.executor.execute(action('PREPARE p AS DELETE FROM t WHERE id <= 2; EXPLAIN ANALYZE EXECUTE p', [], { facts: readOnlyFacts }));
    expect(r).toMatchObject({ ok: false, error: { code: 'EXECUTION_FAILED' }, body: { error: { code: '25006' } } });
    expect(await db.dump()).toBe(before);
  });

  it.each(['EXPLAIN ANALYZE CREATE TABLE stolen AS SELECT * FROM t', 'EXPLAIN ANALYZE CREATE MATERIALIZED VIEW stolen AS SELECT * FROM t'])(
    'read-only facts that are wrong cannot create anything: %s',
    async (statement) => {
      const before = await db.dump();
      const r = await targets.executor.execute(action(statement, [], { facts: readOnlyFacts }));
      // READ ONLY does not stop these (the relation is made outside the executor's check): refused before anything runs.
      expect(r).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
      expect(r.error?.message).toMatch(/creates a relation/);
      expect(await db.dump()).toBe(before);
    },
  );

  it('an overload of a pg_catalog name that writes (public.lower(int)) is refused by the READ ONLY transaction', async () => {
    const before = await db.dump();
    const r = await targets.executor.execute(action('SELECT lower(9)', [], { facts: readOnlyFacts }));
    expect(r).toMatchObject({ ok: false, body: { error: { code: '25006' } } });
    expect(await db.dump()).toBe(before);
    expect((await db.query('SELECT 1 FROM t WHERE id = 9')).rows).toHaveLength(1);
  });

  it('a read-only action still returns its rows', async () => {
    const r = await targets.executor.execute(action('SELECT id, a FROM t WHERE id = $1', [3], { facts: readOnlyFacts }));
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect((r.body as { statements: Array<{ rows: unknown[][] }> }).statements[0]?.rows).toEqual([[3, 3]]);
  });

  it('a preview of PREPARE leaves no prepared statement for a later execution on the shared pool', async () => {
    // No mask here: pg_prepared_statements is a view, whose values would be masked.
    const shared = createPostgresTargets({ db: { url: db.url } });
    try {
      const p = await shared.previewer.preview({ target: 'db', input: { statement: 'PREPARE evil AS DELETE FROM t WHERE id <= 4; UPDATE t SET a = a WHERE id = 1', params: [] } });
      expect(p.status).toBe('skipped');
      expect(p.reason).toMatch(/PREPARE/);
      const r = await shared.executor.execute(action('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = $1', ['evil']));
      expect((r.body as { statements: Array<{ rows: unknown[][] }> }).statements[0]?.rows).toEqual([[0]]);
    } finally {
      await shared.close();
    }
  });

  it.each([
    ['SELECT current_setting(email) FROM t WHERE id = 7', 'u7@x.com'],
    ['SELECT email::regclass FROM t WHERE id = 6', 'u6@x'],
  ])('masked values never leave through a server error message, whatever the SQLSTATE: %s', async (statement, secret) => {
    const r = await targets.executor.execute(action(statement));
    expect(r.ok).toBe(false);
    expect(r.error?.message).toMatch(/\[masked\]/);
    expect(JSON.stringify(r)).not.toContain(secret);
    const p = await targets.previewer.preview({ target: 'db', input: { statement, params: [] } });
    expect(p.status).toBe('failed');
    expect(p.reason).toMatch(/\[masked\]/);
    expect(JSON.stringify(p)).not.toContain(secret);
  });

  it('drift counts every row changed: a writable CTE whose DELETE grows between preview and execution is rolled back', async () => {
    const statement = 'WITH d AS (DELETE FROM t WHERE a > $1 RETURNING 1) UPDATE t SET a = a WHERE id = 5';
    const a = action(statement, [8]);
    const preview: SqlPreview = await targets.previewer.preview({ target: 'db', input: a.input });
    expect(preview.status, preview.reason).toBe('ok');
    expect(preview.summary.changes).toEqual({ 'public.t': { inserted: 0, updated: 1, deleted: 2 } });
    await db.query("INSERT INTO t VALUES (50, 50, 'late@x.com'), (51, 51, 'late2@x.com')");
    const before = await db.dump();
    const r = await targets.executor.execute({ ...a, preview });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'DRIFT' },
      body: { drift: { kind: 'changes', table: 'public.t', approved: { deleted: 2 }, actual: { deleted: 4 } } },
    });
    expect(await db.dump()).toBe(before);
  });

  it('drift counts rows a cascade changes: a child row added between preview and execution is refused', async () => {
    await db.query('CREATE TABLE p2 (id int PRIMARY KEY); CREATE TABLE c2 (id int PRIMARY KEY, pid int REFERENCES p2 ON DELETE CASCADE)');
    await db.query('INSERT INTO p2 VALUES (1); INSERT INTO c2 VALUES (1, 1)');
    const a = action('DELETE FROM p2 WHERE id = 1');
    const preview = await targets.previewer.preview({ target: 'db', input: a.input });
    expect(preview.status, preview.reason).toBe('ok');
    expect(preview.summary.changes).toEqual({ 'public.p2': { inserted: 0, updated: 0, deleted: 1 }, 'public.c2': { inserted: 0, updated: 0, deleted: 1 } });
    await db.query('INSERT INTO c2 VALUES (2, 1)');
    const r = await targets.executor.execute({ ...a, preview });
    expect(r).toMatchObject({ ok: false, body: { drift: { kind: 'changes', table: 'public.c2' } } });
    expect((await db.query('SELECT 1 FROM c2')).rows).toHaveLength(2);
    // Unchanged data: the same action commits.
    const again = await targets.previewer.preview({ target: 'db', input: a.input });
    const ok = await targets.executor.execute({ ...a, preview: again });
    expect(ok.ok, JSON.stringify(ok)).toBe(true);
    expect((await db.query('SELECT 1 FROM c2')).rows).toHaveLength(0);
  });
});
