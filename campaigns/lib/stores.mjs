// The stores a campaign can run against. A store is plugged in with: the config line
// that selects it (secrets through the environment), how to start afresh, what holds
// its contents (scanned for canary secrets), and anything to start or stop beside the
// gateway. PostgreSQL runs on the one throwaway cluster harness
// (src/demo/local-postgres.ts, built to dist/), with several replicas sharing it.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

function sqliteStore() {
  return {
    name: 'sqlite',
    description: 'SQLite (WAL, synchronous=FULL, group commit in a writer thread)',
    defaultReplicas: 1,
    maxReplicas: 1,
    async setup() {},
    configLine: () => 'store: { sqlite: ./countersign.db }',
    env: () => ({}),
    /** Deletes the database (and its WAL) so that the next start creates a new one. */
    async fresh(dir) {
      for (const f of ['countersign.db', 'countersign.db-wal', 'countersign.db-shm']) rmSync(join(dir, f), { force: true });
    },
    /** Files holding the store's contents (scanned for canary secrets). */
    async files(dir) {
      return [join(dir, 'countersign.db'), join(dir, 'countersign.db-wal')];
    },
    killConnections: undefined,
    async teardown() {},
  };
}

/**
 * A private cluster for the campaign; the gateways connect as their own role (not the
 * superuser), whose password is a canary. `fresh` drops and recreates the database;
 * `killConnections` terminates every gateway connection to it (a database failover,
 * a network cut or an admin's pg_terminate_backend, as the gateway sees it).
 */
function postgresStore() {
  let cluster;
  let password;
  const DB = 'crash';
  const ROLE = 'countersign_gw';
  const admin = async (sql, params) => {
    const c = new pg.Client({ connectionString: cluster.url('postgres') });
    await c.connect();
    try {
      return await c.query(sql, params);
    } finally {
      await c.end();
    }
  };
  return {
    name: 'postgres',
    description: 'PostgreSQL (a private cluster from src/demo/local-postgres.ts), several gateway replicas on one database',
    defaultReplicas: 2,
    maxReplicas: 8,
    async setup(canary) {
      const { startPgCluster } = await import('../../dist/demo/local-postgres.js');
      cluster = await startPgCluster({ settings: { max_connections: '200' } });
      password = canary('store-password');
      await admin(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${password}'`);
    },
    configLine: () => 'store: { postgres: { url: "${T_STORE_URL}" } }',
    env: () => ({ T_STORE_URL: `postgres://${ROLE}:${password}@${cluster.host}:${cluster.port}/${DB}` }),
    async fresh() {
      await admin(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
      await admin(`CREATE DATABASE ${DB} OWNER ${ROLE}`);
    },
    /** The whole database as pg_dump writes it (data and schema): the store's contents. */
    async files(dir) {
      const file = join(dir, 'store-dump.sql');
      await run(join(cluster.binDir, 'pg_dump'), ['--file', file, '--no-owner', cluster.url(DB)], { maxBuffer: 1 << 26 });
      return [file];
    },
    /** Terminates every connection to the campaign's database; resolves to how many. */
    async killConnections() {
      const r = await admin('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [DB]);
      return r.rows[0].n;
    },
    async teardown() {
      await cluster?.stop();
    },
  };
}

const STORES = { sqlite: sqliteStore, postgres: postgresStore };

export function storeNamed(name) {
  const s = STORES[name];
  if (!s) throw new Error(`unknown store ${name}: ${Object.keys(STORES).join(', ')}`);
  return s();
}
