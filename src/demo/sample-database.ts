// The demo's sample database: a real PostgreSQL when the server binaries are installed
// (a private throwaway cluster, local-postgres.ts), otherwise PGlite (PostgreSQL compiled
// to WASM, in this process) served over the PostgreSQL wire protocol by pglite-socket,
// so the gateway reaches both the same way: node-postgres and a postgres:// URL.
import pg from 'pg';
import { findInstalledPg, startPgCluster } from './local-postgres.js';

export const SAMPLE_DATABASE_ENGINES = ['auto', 'postgres', 'pglite'] as const;
export type SampleDatabaseEngine = (typeof SAMPLE_DATABASE_ENGINES)[number];

export interface SampleDatabase {
  engine: 'postgres' | 'pglite';
  /** What runs, for the demo's header, e.g. "PostgreSQL 15.14 (a private cluster ...)". */
  description: string;
  /** Superuser URL: only the gateway's config gets it, never the agent. */
  url: string;
  /** The target's `poolSize`: 1 on PGlite (see startPglite). */
  poolSize: number;
  close(): Promise<void>;
}

/** The demo's table: three churned customers on paid plans, which the agent downgrades. */
export const SAMPLE_SEED = `
CREATE TABLE customers (
  id      integer PRIMARY KEY,
  name    text    NOT NULL,
  email   text    NOT NULL,
  plan    text    NOT NULL CHECK (plan IN ('free', 'pro', 'team')),
  churned boolean NOT NULL DEFAULT false
);
INSERT INTO customers (id, name, email, plan, churned) VALUES
  (1, 'Ada Lovelace',     'ada@example.com',     'team', false),
  (2, 'Grace Hopper',     'grace@example.com',   'pro',  true),
  (3, 'Alan Turing',      'alan@example.com',    'pro',  false),
  (4, 'Edsger Dijkstra',  'edsger@example.com',  'team', true),
  (5, 'Barbara Liskov',   'barbara@example.com', 'free', false),
  (6, 'Donald Knuth',     'donald@example.com',  'pro',  true),
  (7, 'Frances Allen',    'frances@example.com', 'free', true),
  (8, 'Ken Thompson',     'ken@example.com',     'team', false);
`;

/** Starts the sample database and seeds it; `engine: 'auto'` takes PostgreSQL when installed. */
export async function startSampleDatabase(opts: { engine?: SampleDatabaseEngine; onProgress?: (line: string) => void } = {}): Promise<SampleDatabase> {
  const engine = opts.engine ?? 'auto';
  const local = engine === 'pglite' ? null : findInstalledPg();
  if (engine === 'postgres' && !local) throw new Error('--database postgres: no PostgreSQL server binaries found under /usr/lib/postgresql/<version>/bin (or COUNTERSIGN_PG_BIN)');
  const db = local ? await startLocal(local.binDir, opts.onProgress) : await startPglite(engine === 'pglite' ? '--database pglite' : 'no PostgreSQL installed', opts.onProgress);
  try {
    await seed(db.url);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

async function startLocal(binDir: string, onProgress?: (line: string) => void): Promise<SampleDatabase> {
  onProgress?.(`starting a private PostgreSQL cluster (${binDir}) …`);
  const cluster = await startPgCluster({ settings: { max_connections: '20' } });
  const url = cluster.url('postgres');
  return { engine: 'postgres', poolSize: 5, description: `PostgreSQL ${await serverVersion(url)} (a private throwaway cluster from ${binDir})`, url, close: () => cluster.stop() };
}

/**
 * PGlite is one PostgreSQL backend in this process: every connection pglite-socket
 * accepts shares that one session. It queues their protocol messages one by one (and,
 * while a transaction is open, serves only the connection that opened it), so the
 * executor's batched cursor reads on one connection lose their portal when another
 * connection's statement runs in between, and named prepared statements clash (measured:
 * `portal "" does not exist`, `prepared statement ... already exists`). Hence `poolSize: 1` for the
 * gateway's target: its actions queue in the pool, as they would behind a one-connection
 * server. A few more connections are accepted for the demo's own seed and read-back.
 */
async function startPglite(why: string, onProgress?: (line: string) => void): Promise<SampleDatabase> {
  onProgress?.(`${why}: starting PGlite (PostgreSQL compiled to WASM, about 5 s) …`);
  // Loaded only here: the gateway itself never needs them.
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-socket')]).catch((e: unknown) => {
    throw new Error(`PGlite could not be loaded (${(e as Error).message}): run \`npm install\`, or install PostgreSQL (\`sudo apt-get install -y postgresql\`)`, { cause: e });
  });
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  let port = 0;
  server.addEventListener('listening', (e) => {
    port = (e as CustomEvent<{ port: number }>).detail.port;
  });
  await server.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  return {
    engine: 'pglite',
    poolSize: 1,
    description: `PGlite (PostgreSQL ${await serverVersion(url)} in WASM, in this process; ${why})`,
    url,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

async function serverVersion(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return String((await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?').split(' ')[0] ?? '?';
  } finally {
    await c.end();
  }
}

async function seed(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(SAMPLE_SEED);
  } finally {
    await c.end();
  }
}
