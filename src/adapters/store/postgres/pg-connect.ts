import pg from 'pg';
import { AppError } from '../../../domain/errors.js';

/** What the adapter calls on a pool or a client: one query at a time (Kysely-style, no driver types outside). */
export interface Sql {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface PgConnectOptions {
  /** postgres://user:password@host:port/database?sslmode=... (never logged, never in an error). */
  url: string;
  /** The schema every table lives in (created by the first migration run). */
  schema: string;
  /** Most connections this process opens. */
  max: number;
  /** How long one statement may run before the server cancels it. 0: no limit. */
  statementTimeoutMs: number;
  /** How long to wait for a connection (from the pool, or a new one). */
  connectTimeoutMs: number;
  /** Names this process in pg_stat_activity. */
  applicationName?: string;
}

/** A plain SQL identifier: the schema name is spliced into statements, so nothing else is accepted. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new AppError('CONFIG_INVALID', `store.postgres.schema must be a plain lower-case SQL name, not ${JSON.stringify(schema)}`);
  return `"${schema}"`;
}

// Column types read as JS numbers: BIGINT (20) holds milliseconds and sequence numbers,
// all far below 2^53. Set on our pools only, never globally on the driver.
const INT8 = 20;
export const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (v: string) => unknown {
    if (oid === INT8 && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format) as (v: string) => unknown;
  },
};

/** The pool's settings for one connection: search_path pins every statement to the schema. */
export function clientConfig(o: PgConnectOptions): pg.ClientConfig {
  const settings = [`-c search_path=${quoteSchema(o.schema)}`];
  if (o.statementTimeoutMs > 0) settings.push(`-c statement_timeout=${Math.floor(o.statementTimeoutMs)}`);
  return {
    connectionString: o.url,
    options: settings.join(' '),
    connectionTimeoutMillis: o.connectTimeoutMs,
    application_name: o.applicationName ?? 'countersign',
    types: PG_TYPES,
  };
}

export function createPgPool(o: PgConnectOptions): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(o), max: Math.max(1, Math.floor(o.max)) });
  // An idle connection the server drops (restart, failover) must not crash the process:
  // the next query gets a fresh connection, and the failure shows in health().
  pool.on('error', () => undefined);
  return pool;
}

/** The server's URL without its password, for messages: host, port and database only. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
