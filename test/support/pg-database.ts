// A fresh database per test file on the run's private cluster (pg-global-setup.ts), so
// files stay independent and can run in parallel:
//
//   let db: TestDatabase;
//   beforeAll(async () => { db = await createTestDatabase(); });
//   afterAll(() => db.drop());
//   ... db.url, await db.query('SELECT 1'), await db.dump()
//
// Roles are cluster-wide: name them with `db.role('reader')` so two files never clash.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { inject } from 'vitest';
import type { PgClusterInfo } from '../../src/demo/local-postgres.js';
import { PG_TEMPLATE_DB } from './pg-global-setup.js';

const run = promisify(execFile);

export interface TestDatabase {
  name: string;
  cluster: PgClusterInfo;
  /** Superuser URL of this database (holds the password: never print it in assertions' messages). */
  url: string;
  /** URL of this database for another role (created by the test) with the given password. */
  urlAs(role: string, password: string): string;
  /** A cluster-unique role name for this file: `<db>_<base>`. */
  role(base: string): string;
  /** A query as the superuser on a shared pool. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * The whole database as `pg_dump` sees it: schema, ACLs, sequence positions and every
   * row, sorted by table. Two equal dumps mean nothing the dump covers changed.
   */
  dump(): Promise<string>;
  /** Drops the roles made with `role()`, then the database. */
  drop(): Promise<void>;
}

/** The run's cluster; throws the harness's message when PostgreSQL is not installed. */
export function pgCluster(): PgClusterInfo {
  const c = inject('pgCluster');
  if ('error' in c) throw new Error(c.error);
  return c;
}

const urlOf = (c: PgClusterInfo, db: string, user = c.user, password = c.password) =>
  `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${c.host}:${c.port}/${encodeURIComponent(db)}`;

export async function createTestDatabase(): Promise<TestDatabase> {
  const cluster = pgCluster();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: urlOf(cluster, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${PG_TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const url = urlOf(cluster, name);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // drop() ends the pool, then DROP ... WITH (FORCE) may terminate a connection still
  // closing: its FATAL 57P01 is expected, not an unhandled error of the test run.
  pool.on('error', () => undefined);
  const roles = new Set<string>();
  return {
    name,
    cluster,
    url,
    urlAs: (role, password) => urlOf(cluster, name, role, password),
    role(base) {
      const r = `${name}_${base}`;
      roles.add(r);
      return r;
    },
    query: (sql, params) => pool.query(sql, params),
    async dump() {
      const { stdout } = await run(join(cluster.binDir, 'pg_dump'), ['--no-password', '--dbname', url], { maxBuffer: 64 * 1024 * 1024 });
      // pg_dump (15.14 and later) fences its output with a random \restrict key: not content.
      return stdout.replace(/^\\(un)?restrict .*$/gm, '');
    },
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: urlOf(cluster, 'postgres') });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        for (const r of roles) await c.query(`DROP ROLE IF EXISTS ${r}`);
      } finally {
        await c.end();
      }
    },
  };
}
