import pg from 'pg';
import type { PostgresTargetSettings } from './postgres-settings.js';

/**
 * One node-postgres pool per target (and one for a target's preview replica, when it has
 * `preview.url`), created lazily on first use so that an unreachable database fails the
 * action that needs it, not the gateway's start.
 */
export interface PgPools {
  /** The target's own database: executions and `rollback` previews. */
  primary(target: PostgresTargetSettings): pg.Pool;
  /** Where `select` previews read: `preview.url` when set, else the primary. */
  preview(target: PostgresTargetSettings): pg.Pool;
  /** Asks the server to cancel what backend `pid` is running (a deadline or an abort). */
  cancel(pool: pg.Pool, pid: number): Promise<void>;
  close(): Promise<void>;
}

export function createPgPools(): PgPools {
  const pools = new Map<string, pg.Pool>();
  const make = (key: string, url: string, t: PostgresTargetSettings) => {
    let pool = pools.get(key);
    if (!pool) {
      pool = new pg.Pool({
        connectionString: url,
        ...(t.tls !== undefined ? { ssl: t.tls } : {}),
        max: t.poolSize,
        application_name: 'countersign',
        // Sent with the connection's start-up packet: every statement is bounded without a
        // round trip; previews set their own, shorter, timeout locally.
        statement_timeout: t.limits.statementTimeoutMs,
        connectionTimeoutMillis: 10_000,
        idleTimeoutMillis: 30_000,
      });
      // An idle connection dropped by the server must not crash the gateway; the next
      // checkout gets a fresh one.
      pool.on('error', () => undefined);
      pools.set(key, pool);
    }
    return pool;
  };
  return {
    primary: (t) => make(`${t.name}\u0000primary`, t.url, t),
    preview: (t) => (t.preview.url ? make(`${t.name}\u0000preview`, t.preview.url, t) : make(`${t.name}\u0000primary`, t.url, t)),
    async cancel(pool, pid) {
      // pg_cancel_backend from a second connection: the protocol's cancel request needs the
      // backend's secret key, which node-postgres does not expose.
      await pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.allSettled(all.map((p) => p.end()));
    },
  };
}

/** The backend pid of a checked-out client (node-postgres keeps it as `processID`). */
export function backendPid(client: pg.PoolClient): number | null {
  const pid = (client as unknown as { processID?: unknown }).processID;
  return typeof pid === 'number' ? pid : null;
}

const guarded = new WeakSet<pg.PoolClient>();

/**
 * A checked-out client's 'error' (the server going away, a broken protocol) must fail
 * the action that uses it, not crash the gateway: an EventEmitter 'error' without a
 * listener throws. Once per client, however often the pool hands it out.
 */
export function guardClient(client: pg.PoolClient): void {
  if (guarded.has(client)) return;
  guarded.add(client);
  client.on('error', () => undefined);
}
