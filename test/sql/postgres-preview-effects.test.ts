import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import { databaseState } from './pg-state.js';
import { previewerFor, SHOP_SCHEMA } from './sql-fixture.js';

let db: TestDatabase;
let reader: string;
let admin: string;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.query(SHOP_SCHEMA);
  reader = db.role('reader');
  admin = db.role('admin');
  await db.query(`CREATE ROLE ${reader} LOGIN; CREATE ROLE ${admin}; GRANT SELECT ON orders TO ${reader}`);
});
afterAll(() => db.drop());

describe('rollback preview: schema and privileges, read from the catalog inside the transaction', () => {
  let p: ReturnType<typeof previewerFor>;
  beforeAll(() => {
    p = previewerFor(db);
  });
  afterAll(() => p.close());

  it('ALTER TABLE, CREATE INDEX and DROP COLUMN show the schema difference per statement, and leave the database unchanged', async () => {
    const before = await databaseState(db);
    const r = await p.preview(`
      ALTER TABLE users ADD COLUMN nick text NOT NULL DEFAULT 'x';
      CREATE INDEX users_nick_idx ON users (nick);
      ALTER TABLE users DROP COLUMN ssn;
      ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2), ADD CONSTRAINT total_positive CHECK (total > 0)`);
    expect(r.status, r.reason).toBe('ok');
    expect(r.statements.map((s) => s.type)).toEqual(['alter_table', 'create_index', 'alter_table', 'alter_table']);
    expect(r.statements[0]?.schemaChanges).toEqual([{ object: 'public.users.nick', change: 'added', detail: "column text NOT NULL DEFAULT 'x'::text" }]);
    expect(r.statements[1]?.schemaChanges).toEqual([
      { object: 'public.users_nick_idx', change: 'added', detail: 'index CREATE INDEX users_nick_idx ON public.users USING btree (nick)' },
    ]);
    expect(r.statements[2]?.schemaChanges).toEqual([{ object: 'public.users.ssn', change: 'dropped', detail: 'column text' }]);
    expect(r.statements[3]?.schemaChanges).toEqual([
      { object: 'public.orders.total', change: 'changed', detail: 'column type numeric(10,2) -> numeric(12,2)' },
      { object: 'public.orders.total_positive', change: 'added', detail: 'constraint CHECK ((total > (0)::numeric))' },
    ]);
    expect(r.summary.rows).toEqual([null, null, null, null]);
    expect(r.summary.schemaDiffHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await databaseState(db)).toBe(before);
  });

  it('GRANT, REVOKE, role membership and role attributes show who gains or loses what', async () => {
    const before = await databaseState(db);
    const r = await p.preview(`GRANT SELECT, UPDATE (name) ON users TO ${reader}; REVOKE SELECT ON orders FROM ${reader}; GRANT ${admin} TO ${reader}; ALTER ROLE ${admin} CREATEROLE`);
    expect(r.status, r.reason).toBe('ok');
    expect(r.statements[0]?.privilegeChanges).toEqual([
      { grantee: reader, change: 'gains', privilege: 'SELECT', object: 'public.users' },
      { grantee: reader, change: 'gains', privilege: 'UPDATE', object: 'public.users.name' },
    ]);
    expect(r.statements[1]?.privilegeChanges).toEqual([{ grantee: reader, change: 'loses', privilege: 'SELECT', object: 'public.orders' }]);
    expect(r.statements[2]?.privilegeChanges).toEqual([{ grantee: reader, change: 'gains', privilege: `role ${admin}`, object: admin }]);
    expect(r.statements[3]?.privilegeChanges).toEqual([{ grantee: admin, change: 'gains', privilege: 'CREATEROLE', object: admin }]);
    expect(r.summary.schemaDiffHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await databaseState(db)).toBe(before);
  });

  it('a statement with its own WITH clause runs once, wrapped, with its count', async () => {
    const r = await p.preview('WITH cheap AS (SELECT id FROM orders WHERE total < 50) DELETE FROM orders WHERE id IN (SELECT id FROM cheap)');
    expect(r.status, r.reason).toBe('ok');
    expect(r.summary.rows).toEqual([4]);
  });

  it('a value copied from a masked column is masked in the after sample', async () => {
    const masked = previewerFor(db, { mask: ['users.email'] });
    try {
      for (const mode of ['rollback', 'select'] as const) {
        const m = mode === 'rollback' ? masked : previewerFor(db, { mask: ['users.email'], preview: { mode } });
        const r = await m.preview('UPDATE users SET name = email WHERE id = 1');
        expect(r.status, r.reason).toBe('ok');
        const s = r.statements[0]!;
        const name = s.columns!.indexOf('name');
        expect(s.before?.[0]?.[name], mode).toBe('user1');
        expect(s.after?.[0]?.[name], mode).toBe('[masked]');
        if (m !== masked) await m.close();
      }
    } finally {
      await masked.close();
    }
  });
});

describe('statements that get no preview, with the reason, never a partial run', () => {
  let p: ReturnType<typeof previewerFor>;
  beforeAll(() => {
    p = previewerFor(db);
  });
  afterAll(() => p.close());

  const cases: Array<[string, RegExp]> = [
    ['CREATE INDEX CONCURRENTLY users_name_idx ON users (name)', /CONCURRENTLY cannot run inside a transaction/],
    ['VACUUM users', /VACUUM/],
    ['ANALYZE users', /statistics/],
    ['DROP DATABASE other_db', /DROP DATABASE/],
    ['CREATE DATABASE other_db', /CREATE DATABASE/],
    ["SELECT nextval('events_id_seq')", /nextval\(\) advances a sequence/],
    ["SELECT setval('events_id_seq', 100)", /setval/],
    ["INSERT INTO events (what) VALUES ('x')", /sequence of .*events/],
    ['NOTIFY jobs', /NOTIFY/],
    ["SELECT pg_notify('jobs', 'x')", /pg_notify/],
    ["SELECT dblink_exec('dbname=other', 'DELETE FROM t')", /dblink_exec\(\) reaches another database/],
    ["COPY users TO PROGRAM 'cat > /tmp/x'", /PROGRAM runs a program/],
    ["COPY users FROM '/etc/passwd'", /file on the database server/],
    ["ALTER SYSTEM SET work_mem = '8MB'", /ALTER SYSTEM/],
    ['BEGIN', /transaction control/],
    ["UPDATE users SET name = 'partial'; COMMIT", /statement 2: transaction control/],
    ["DO $$ BEGIN PERFORM nextval('events_id_seq'); END $$", /DO block runs code the gateway does not check/],
    ["DO $$ BEGIN EXECUTE 'DROP TABLE users'; END $$", /DO block runs code the gateway does not check/],
    ["UPDATE users SET name = 'partial' WHERE id = 1; VACUUM users", /statement 2: VACUUM/],
    ["SELECT pg_advisory_lock(42)", /session lock/],
    ['REINDEX TABLE CONCURRENTLY users', /REINDEX CONCURRENTLY/],
    // SQL given as text runs unseen by the parser's checks: here it would advance a sequence.
    ["SELECT query_to_xml('SELECT nextval(''events_id_seq'')', true, true, '')", /query_to_xml\(\) is volatile/],
    ["SELECT * FROM ts_stat('SELECT setval(''events_id_seq'', 500)::text::tsvector')", /ts_stat\(\) is volatile/],
    ["SELECT pg_read_file('postgresql.conf')", /pg_read_file\(\) is volatile/],
    ["SELECT setseed(0.5)", /setseed\(\) is volatile/],
  ];

  it.each(cases)('%s', async (statement, reason) => {
    const before = await databaseState(db);
    const r = await p.preview(statement);
    expect(r.status).toBe('skipped');
    expect(r.reason).toMatch(reason);
    expect(r.statements.every((s) => s.rows === null && !s.before && !s.after)).toBe(true);
    expect(await databaseState(db)).toBe(before);
  });

  it('volatile functions that leave nothing behind (clocks, random numbers, transaction locks) are still previewed', async () => {
    for (const mode of ['rollback', 'select'] as const) {
      const m = mode === 'rollback' ? p : previewerFor(db, { preview: { mode } });
      const r = await m.preview("UPDATE orders SET total = total WHERE id = 1 AND random() < 2 AND clock_timestamp() IS NOT NULL AND pg_try_advisory_xact_lock(7) AND gen_random_uuid() IS NOT NULL");
      expect(r.status, `${mode}: ${r.reason}`).toBe('ok');
      expect(r.summary.rows).toEqual([1]);
      if (m !== p) await m.close();
    }
  });

  it('a view that runs SQL given as text (query_to_xml) skips the preview in both modes, and nothing runs', async () => {
    await db.query(`CREATE VIEW order_xml AS SELECT query_to_xml('SELECT nextval(''events_id_seq'')', true, true, '') AS x`);
    try {
      const before = await databaseState(db);
      for (const mode of ['rollback', 'select'] as const) {
        const m = mode === 'rollback' ? p : previewerFor(db, { preview: { mode } });
        const r = await m.preview('SELECT x FROM order_xml');
        expect(r.status, mode).toBe('skipped');
        expect(r.reason).toMatch(/query_to_xml\(\) is volatile/);
        if (m !== p) await m.close();
      }
      expect(await databaseState(db)).toBe(before);
    } finally {
      await db.query('DROP VIEW order_xml');
    }
  });

  // Each case: code the statement does not show, set up, previewed, and dropped again.
  const hiddenCode: Array<[string, string, string, RegExp, string]> = [
    [
      'a view read by table_to_xml, which names it as text',
      `CREATE VIEW v_bump AS SELECT nextval('events_id_seq') AS n`,
      "SELECT table_to_xml('v_bump', true, false, '')",
      /table_to_xml\(\) reads relations named in its arguments/,
      'DROP VIEW v_bump',
    ],
    [
      'a user function whose quoted name has capitals',
      `CREATE FUNCTION "Bump"() RETURNS bigint LANGUAGE sql AS $$ SELECT nextval('events_id_seq') $$`,
      'SELECT "Bump"()',
      /function Bump\(\) uses nextval/,
      'DROP FUNCTION "Bump"()',
    ],
    [
      'a user operator BETWEEN runs',
      `CREATE FUNCTION bump_ge(int, int) RETURNS boolean LANGUAGE sql AS $$ SELECT nextval('events_id_seq') > 0 $$;
       CREATE OPERATOR public.>= (LEFTARG = int, RIGHTARG = int, FUNCTION = bump_ge)`,
      'SELECT id FROM orders WHERE id BETWEEN 1 AND 2',
      /operator >= may run public\.bump_ge\(\)/,
      'DROP OPERATOR public.>= (int, int); DROP FUNCTION bump_ge(int, int)',
    ],
    [
      "a domain's default, used by an INSERT that leaves the column out",
      `CREATE DOMAIN bumped AS bigint DEFAULT nextval('events_id_seq'); CREATE TABLE dom_t (id int, b bumped)`,
      'INSERT INTO dom_t (id) VALUES (1)',
      /nextval\(\) advances a sequence/,
      'DROP TABLE dom_t; DROP DOMAIN bumped',
    ],
    [
      "an index expression calling a user function (marked IMMUTABLE by its author)",
      `CREATE FUNCTION said_immutable(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1';
       CREATE TABLE idx_t (id int); CREATE INDEX idx_t_f ON idx_t (said_immutable(id))`,
      'UPDATE idx_t SET id = 2',
      /function public\.said_immutable\(\) is user code/,
      'DROP TABLE idx_t; DROP FUNCTION said_immutable(int)',
    ],
    [
      'an assignment cast a write applies without naming it (text into a column of a user type)',
      `CREATE TYPE tagged AS (v text);
       CREATE FUNCTION tag_of(text) RETURNS tagged LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('events_id_seq'); RETURN ROW($1)::tagged; END $$;
       CREATE CAST (text AS tagged) WITH FUNCTION tag_of(text) AS ASSIGNMENT; CREATE TABLE cast_t (id int, t tagged)`,
      'INSERT INTO cast_t (id, t) SELECT id, name FROM users',
      /cast may run public\.tag_of\(\)/,
      'DROP TABLE cast_t; DROP CAST (text AS tagged); DROP FUNCTION tag_of(text); DROP TYPE tagged',
    ],
    ...[
      ["an index's operator class whose comparison is user code (run by every index insert)", 'CREATE TABLE opc_t (id int); INSERT INTO opc_t VALUES (1), (2); CREATE INDEX opc_t_i ON opc_t (id bump_ops)', 'INSERT INTO opc_t VALUES (3)', /index or constraint on public\.opc_t runs public\.bump_cmp\(\)/, 'DROP TABLE opc_t'],
      [
        "a foreign key's check through the referenced table's index (that table is not written)",
        'CREATE TABLE par (id int NOT NULL); INSERT INTO par SELECT generate_series(1, 10); CREATE UNIQUE INDEX par_u ON par (id bump_ops); CREATE TABLE chi (pid int REFERENCES par (id))',
        'INSERT INTO chi VALUES (3)',
        /index or constraint on public\.par runs public\.bump_cmp\(\)/,
        'DROP TABLE chi; DROP TABLE par',
      ],
      [
        "a deleted parent row looked up in the referencing table's index",
        'CREATE TABLE par2 (id int PRIMARY KEY); INSERT INTO par2 SELECT generate_series(1, 10); CREATE TABLE chi2 (pid int REFERENCES par2 (id)); CREATE INDEX chi2_i ON chi2 (pid bump_ops)',
        'DELETE FROM par2 WHERE id = 3',
        /index or constraint on public\.chi2 runs public\.bump_cmp\(\)/,
        'DROP TABLE chi2; DROP TABLE par2',
      ],
      [
        'a table only read, through its index',
        'CREATE TABLE rd (id int); INSERT INTO rd SELECT generate_series(1, 5000); CREATE INDEX rd_i ON rd (id bump_ops); ANALYZE rd',
        "INSERT INTO users (id, name) SELECT id + 1000, 'x' FROM rd WHERE id = 7",
        /index or constraint on public\.rd runs public\.bump_cmp\(\)/,
        'DROP TABLE rd',
      ],
      ['a range type whose bounds compare with user code, written as a literal', 'CREATE TYPE bumprange AS RANGE (subtype = int4, subtype_opclass = bump_ops); CREATE TABLE rg_t (r bumprange)', "INSERT INTO rg_t VALUES ('[1,5]')", /range type bumprange compares its bounds with public\.bump_cmp\(\)/, 'DROP TABLE rg_t; DROP TYPE bumprange'],
      ['a range type whose bounds compare with user code, cast to', 'CREATE TYPE bumprange2 AS RANGE (subtype = int4, subtype_opclass = bump_ops)', "SELECT '[1,5]'::bumprange2", /range type bumprange2 compares its bounds with public\.bump_cmp\(\)/, 'DROP TYPE bumprange2'],
    ].map(([what, setup, statement, reason, teardown]) => [
      what,
      `CREATE FUNCTION bump_cmp(int, int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('events_id_seq'); RETURN btint4cmp($1, $2); END $$;
       CREATE OPERATOR CLASS bump_ops FOR TYPE int USING btree AS OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, FUNCTION 1 bump_cmp(int, int); ${setup as string}`,
      statement,
      reason,
      `${teardown as string}; DROP OPERATOR FAMILY bump_ops USING btree; DROP FUNCTION bump_cmp(int, int)`,
    ] as [string, string, string, RegExp, string]),
    [
      'an event trigger a DDL statement fires',
      `CREATE FUNCTION evt_bump() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('events_id_seq'); END $$;
       CREATE EVENT TRIGGER evt_bump ON ddl_command_start EXECUTE FUNCTION evt_bump()`,
      'ALTER TABLE users ADD COLUMN z int',
      /event trigger evt_bump, which runs public\.evt_bump\(\)/,
      'DROP EVENT TRIGGER evt_bump; DROP FUNCTION evt_bump()',
    ],
  ];

  it.each(hiddenCode)('%s skips the preview, and nothing runs', async (_what, setup, statement, reason, teardown) => {
    await db.query(setup);
    try {
      const before = await databaseState(db);
      const r = await p.preview(statement);
      expect(r.status, r.reason).toBe('skipped');
      expect(r.reason).toMatch(reason);
      expect(await databaseState(db)).toBe(before);
    } finally {
      await db.query(teardown);
    }
  });

  it('a user cast between types the statement cannot hold (as PostGIS installs) leaves its preview on', async () => {
    await db.query(`CREATE TYPE tg AS (v text);
      CREATE FUNCTION tg_of(text) RETURNS tg LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('events_id_seq'); RETURN ROW($1)::tg; END $$;
      CREATE CAST (text AS tg) WITH FUNCTION tg_of(text) AS ASSIGNMENT`);
    try {
      const before = await databaseState(db);
      const r = await p.preview("UPDATE users SET name = 'z' WHERE id = 1");
      expect(r.status, r.reason).toBe('ok');
      expect(await databaseState(db)).toBe(before);
    } finally {
      await db.query('DROP CAST (text AS tg); DROP FUNCTION tg_of(text); DROP TYPE tg');
    }
  });

  it('a trigger whose code inserts rows (which may draw from a sequence) skips the rollback preview', async () => {
    await db.query(`CREATE FUNCTION log_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO events (what) VALUES ('order'); RETURN NEW; END $$;
      CREATE TRIGGER orders_log AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION log_order()`);
    try {
      const before = await databaseState(db);
      const r = await p.preview('UPDATE orders SET total = total WHERE id = 1');
      expect(r.status).toBe('skipped');
      expect(r.reason).toMatch(/trigger orders_log on "orders" uses insert/i);
      expect(await databaseState(db)).toBe(before);
      // A select preview runs no trigger: it previews the rows and says the trigger would fire.
      const s = previewerFor(db, { preview: { mode: 'select' } });
      try {
        const r2 = await s.preview('UPDATE orders SET total = total WHERE id = 1');
        expect(r2.status, r2.reason).toBe('ok');
        expect(r2.summary.rows).toEqual([1]);
        expect(r2.statements[0]?.note).toMatch(/triggers would fire \(orders_log\)/);
      } finally {
        await s.close();
      }
    } finally {
      await db.query('DROP TRIGGER orders_log ON orders; DROP FUNCTION log_order()');
    }
  });

  it('an INSERT into a serial table is previewed in select mode, without touching the sequence', async () => {
    const s = previewerFor(db, { preview: { mode: 'select' } });
    try {
      const before = await databaseState(db);
      const r = await s.preview("INSERT INTO events (what) VALUES ('a'), ('b')");
      expect(r.status, r.reason).toBe('ok');
      expect(r.summary.rows).toEqual([2]);
      expect(r.statements[0]?.after).toEqual([['a'], ['b']]);
      expect(await databaseState(db)).toBe(before);
    } finally {
      await s.close();
    }
  });
});

describe('select preview: what it cannot show is said, never guessed', () => {
  let p: ReturnType<typeof previewerFor>;
  beforeAll(() => {
    p = previewerFor(db, { preview: { mode: 'select' } });
  });
  afterAll(() => p.close());

  it('a BEFORE row trigger that may change or skip rows leaves the count unknown', async () => {
    await db.query(`CREATE FUNCTION keep_total() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
      CREATE TRIGGER orders_keep BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION keep_total()`);
    try {
      const r = await p.preview('UPDATE orders SET total = 0 WHERE id < 5');
      expect(r.status, r.reason).toBe('ok');
      expect(r.summary.rows).toEqual([null]);
      expect(r.statements[0]?.after).toBeUndefined();
      expect(r.statements[0]?.note).toMatch(/BEFORE\/INSTEAD OF row triggers would fire \(orders_keep\)/);
    } finally {
      await db.query('DROP TRIGGER orders_keep ON orders; DROP FUNCTION keep_total()');
    }
  });

  it('a writable CTE is shown as not previewable', async () => {
    const r = await p.preview('WITH gone AS (DELETE FROM orders WHERE id = 3 RETURNING *) INSERT INTO orders SELECT id + 1000, user_id, total FROM gone');
    expect(r.status, r.reason).toBe('ok');
    expect(r.summary.rows).toEqual([null]);
    expect(r.statements[0]?.note).toMatch(/writable CTE/);
  });

  it('DDL and privilege changes are derived from the statement and the catalog, without running them', async () => {
    const before = await databaseState(db);
    const r = await p.preview(
      `ALTER TABLE users ADD COLUMN z varchar(20) NOT NULL, DROP COLUMN ssn, ALTER COLUMN id TYPE bigint; CREATE INDEX users_z_idx ON users (z);
       GRANT SELECT, UPDATE (name) ON users TO ${reader}; GRANT ${admin} TO ${reader}; ALTER ROLE ${admin} NOLOGIN; COMMENT ON TABLE users IS 'x'`,
    );
    expect(r.status, r.reason).toBe('ok');
    expect(r.statements[0]?.schemaChanges).toEqual([
      { object: 'public.users.z', change: 'added', detail: 'column varchar(20) NOT NULL' },
      { object: 'public.users.ssn', change: 'dropped', detail: 'column text' },
      { object: 'public.users.id', change: 'changed', detail: 'column type integer -> bigint' },
    ]);
    expect(r.statements[0]?.note).toMatch(/without running it/);
    expect(r.statements[1]?.schemaChanges?.[0]).toMatchObject({ object: 'public.users_z_idx', change: 'added' });
    expect(r.statements[2]?.privilegeChanges).toEqual([
      { grantee: reader, change: 'gains', privilege: 'SELECT', object: 'public.users' },
      { grantee: reader, change: 'gains', privilege: 'UPDATE', object: 'public.users.name' },
    ]);
    expect(r.statements[3]?.privilegeChanges).toEqual([{ grantee: reader, change: 'gains', privilege: `role ${admin}`, object: admin }]);
    expect(r.statements[4]?.privilegeChanges).toEqual([{ grantee: admin, change: 'loses', privilege: 'LOGIN', object: admin }]);
    expect(r.statements[5]?.note).toMatch(/shown by a rollback preview/);
    expect(await databaseState(db)).toBe(before);
  });

  it('an UPDATE joined to another table counts each target row once', async () => {
    const r = await p.preview('UPDATE users u SET active = true FROM orders o WHERE o.user_id = u.id AND u.id <= 3');
    expect(r.status, r.reason).toBe('ok');
    expect(r.summary.rows).toEqual([3]);
  });
});
