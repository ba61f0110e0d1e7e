import type { TestDatabase } from './pg-database.js';

// Statements for the property tests that submit SQL (test/e2e/sql-fuzz.test.ts, the wire
// gateway's test/pgwire/pgwire-fuzz.test.ts), on the tables of the wire harness's SCHEMA,
// and a digest of that database to prove a run changed nothing in it.

/** A digest of every row of the test tables and of the relations, schemas and functions there are (roles are cluster-wide, shared with other test files): cheap enough for every case. */
export async function databaseDigest(db: Pick<TestDatabase, 'query'>): Promise<string> {
  const r = await db.query<{ d: string }>(`
    SELECT md5(string_agg(x, ',' ORDER BY x)) AS d FROM (
      SELECT 'c' || c::text AS x FROM customers c
      UNION ALL SELECT 'u' || u::text FROM users u
      UNION ALL SELECT 'b' || b::text FROM billing.users b
      UNION ALL SELECT 'r' || n.nspname || '.' || c.relname || c.relkind::text || coalesce(c.relacl::text, '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
      UNION ALL SELECT 'n' || nspname || coalesce(nspacl::text, '') FROM pg_namespace
      UNION ALL SELECT 'p' || proname FROM pg_proc WHERE pronamespace <> 'pg_catalog'::regnamespace AND pronamespace <> 'information_schema'::regnamespace
    ) s`);
  return r.rows[0]!.d;
}

/** Statements on the test schema, of every type the policy sees: reads, writes, DDL, privileges, session and transaction control. */
export const SQL_CORPUS = [
  'SELECT id, name, plan FROM customers WHERE id = $1',
  'SELECT count(*) FROM customers WHERE plan = $1 AND churned = $2',
  "SELECT * FROM customers WHERE email LIKE '%@example.com' ORDER BY id LIMIT 5",
  'SELECT c.name, u.name FROM customers c JOIN users u ON u.id = c.id',
  'WITH t AS (SELECT id FROM customers WHERE churned) SELECT count(*) FROM t',
  'SELECT * FROM billing.users',
  'SELECT 1; SELECT 2',
  "UPDATE customers SET plan = 'free' WHERE churned AND plan <> $1",
  'UPDATE customers SET plan = $1 WHERE id = $2',
  'DELETE FROM customers WHERE id = $1',
  'DELETE FROM customers',
  "INSERT INTO users (id, name) VALUES ($1, 'fuzz')",
  "INSERT INTO customers SELECT 100 + i, 'n', 'e', 'team', false FROM generate_series(1, 3) i",
  'WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d',
  'SELECT * FROM customers FOR UPDATE',
  'EXPLAIN ANALYZE DELETE FROM customers',
  'EXPLAIN SELECT * FROM customers',
  'SELECT * INTO copy_of_customers FROM customers',
  'CREATE TABLE fuzz (id int)',
  'DROP TABLE customers',
  'TRUNCATE users',
  'ALTER TABLE customers ADD COLUMN x int',
  'CREATE INDEX ON customers (plan)',
  'GRANT ALL ON customers TO PUBLIC',
  'CREATE ROLE fuzz_role',
  'SET ROLE postgres',
  "SET search_path TO billing, public",
  'RESET ALL',
  'BEGIN; UPDATE customers SET plan = $1; COMMIT',
  'COMMIT',
  'ROLLBACK; DELETE FROM users',
  "DO $$ BEGIN DELETE FROM users; END $$",
  "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'DELETE FROM users RETURNING 1'",
  "COPY customers TO STDOUT",
  "COPY users FROM STDIN",
  "SELECT set_config('search_path', 'billing', false)",
  "SELECT nextval('no_such_seq')",
  'PREPARE p AS DELETE FROM users; EXECUTE p',
  'DECLARE c CURSOR FOR SELECT * FROM customers',
  'LOCK TABLE customers',
  'VACUUM customers',
  'LISTEN x',
  "NOTIFY x, 'y'",
  'CALL no_such_procedure()',
  'SELECT 1/0',
  "SELECT '\\x00'::bytea",
  'SELECT $1::jsonb',
  "SELECT repeat('x', 100000)",
  'SELECT * FROM generate_series(1, 500)',
  "SELECT ((((((((((((1))))))))))))",
];

