import type pg from 'pg';
import type { SqlPreview, SqlPreviewMode, SqlStatementPreview, SqlTableChanges } from '../../domain/sql-preview.js';
import { changesSince, tableCounters } from './postgres-changes.js';
import { schemaDiffHash } from '../../domain/sql-schema-diff.js';
import type { ParsedStatement } from './pg-parse.js';
import { safePgError, urlSecrets } from './postgres-errors.js';
import type { PgPools } from './postgres-pool.js';
import { backendPid, guardClient } from './postgres-pool.js';
import type { PostgresTargetSettings } from './postgres-settings.js';
import { isDml, isRead, statementType } from './sql-statement-kind.js';

/** What a preview body computes inside the frame's transaction. */
export type PreviewBody = (client: pg.PoolClient, statements: readonly ParsedStatement[], params: readonly unknown[]) => Promise<SqlStatementPreview[] | { skipped: string }>;

const DML_TYPES = new Set(['insert', 'update', 'delete', 'merge']);
const QUERY_CANCELED = '57014';
const LOCK_NOT_AVAILABLE = '55P03';

function result(
  mode: SqlPreviewMode,
  status: SqlPreview['status'],
  statements: SqlStatementPreview[],
  started: number,
  reason?: string,
  changes?: Record<string, SqlTableChanges>,
): SqlPreview {
  const rows = statements.map((s) => (DML_TYPES.has(s.type) ? s.rows : null));
  const schema = statements.flatMap((s) => s.schemaChanges ?? []);
  const privileges = statements.flatMap((s) => s.privilegeChanges ?? []);
  const hash = schemaDiffHash(schema, privileges);
  return {
    mode,
    status,
    ...(reason ? { reason } : {}),
    statements,
    summary: { rows, ...(hash ? { schemaDiffHash: hash } : {}), ...(changes ? { changes } : {}) },
    tookMs: Math.round(performance.now() - started),
  };
}

/** What each statement is, without running anything (for skipped and failed previews). */
export const bare = (statements: readonly ParsedStatement[]): SqlStatementPreview[] =>
  statements.map((s) => ({ index: s.index, type: statementType(s), rows: null }));

/**
 * Runs a preview body in a transaction that is always rolled back, with
 * statement_timeout and lock_timeout set locally and an overall deadline (a cancel from
 * a second connection), and turns every outcome into a SqlPreview: `ok`, `skipped`,
 * `timeout` (with the planner's estimates) or `failed` (with a safe message). Never throws.
 */
export async function runPreviewFrame(opts: {
  mode: SqlPreviewMode;
  target: PostgresTargetSettings;
  pool: pg.Pool;
  pools: PgPools;
  statements: readonly ParsedStatement[];
  params: readonly unknown[];
  readOnly: boolean;
  body: PreviewBody;
}): Promise<SqlPreview> {
  const { mode, target, pool, statements, params } = opts;
  const started = performance.now();
  const secrets = urlSecrets(target.url).concat(target.preview.url ? urlSecrets(target.preview.url) : []);
  const fail = (e: unknown) => safePgError(e, secrets, target.mask.length > 0);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
    guardClient(client);
  } catch (e) {
    return result(mode, 'failed', bare(statements), started, `cannot connect: ${fail(e).message}`);
  }
  const pid = backendPid(client);
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    // The cancel may land late: this connection is not reused afterwards (never is).
    if (pid !== null) void opts.pools.cancel(pool, pid);
  }, target.preview.timeoutMs);
  try {
    await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ${opts.readOnly ? ' READ ONLY' : ''}`);
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(target.preview.timeoutMs))}`);
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(target.preview.lockTimeoutMs))}`);
    await client.query(`SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1000, Math.floor(target.preview.timeoutMs * 2))}`);
    // If the gateway dies mid-preview, the server notices the closed connection within a
    // second, even inside a long statement, and rolls back (PostgreSQL 14 and later).
    await client.query(`SET LOCAL client_connection_check_interval = 1000`);
    const counters = opts.mode === 'rollback' ? await tableCounters(client) : null;
    const out = await opts.body(client, statements, params);
    if ('skipped' in out) return result(mode, 'skipped', bare(statements), started, out.skipped);
    // Every row the input changed, per table, read before the ROLLBACK: what drift binds execution to.
    const changes = counters ? await changesSince(client, counters) : undefined;
    return result(mode, 'ok', out, started, undefined, changes);
  } catch (e) {
    const err = fail(e);
    if (timedOut || err.code === QUERY_CANCELED) {
      await rollback(client).catch(() => undefined);
      const estimates = await estimate(client, statements, params, target).catch(() => bare(statements));
      return result(mode, 'timeout', estimates, started, `the preview did not finish within ${target.preview.timeoutMs} ms; rows are the planner's estimates`);
    }
    const why = err.code === LOCK_NOT_AVAILABLE ? `another session holds a lock the statements need (${err.message})` : `${err.message} (SQLSTATE ${err.code})`;
    return result(mode, 'failed', bare(statements), started, why);
  } finally {
    clearTimeout(deadline);
    // Always rolled back, then destroyed: whatever session state the statements left
    // (session advisory locks, prepared statements, temp objects, settings) ends with the
    // connection and never reaches an execution that would take it from the pool.
    await rollback(client).catch(() => undefined);
    client.release(true);
  }
}

const rollback = (client: pg.PoolClient) => client.query('ROLLBACK');

/** EXPLAIN (no ANALYZE: nothing runs) for each DML or read, in a read-only transaction. */
async function estimate(client: pg.PoolClient, statements: readonly ParsedStatement[], params: readonly unknown[], target: PostgresTargetSettings): Promise<ReturnType<typeof bare>> {
  const out = bare(statements);
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(target.preview.timeoutMs))}`);
    for (const s of statements) {
      if (!isDml(s) && !isRead(s)) continue;
      const entry = out[s.index];
      if (!entry) continue;
      await client.query('SAVEPOINT countersign_explain');
      try {
        const r = await client.query(`EXPLAIN (FORMAT JSON) ${s.text}`, params.slice(0, s.maxParam));
        const plan = (r.rows[0] as { 'QUERY PLAN': Array<{ Plan: { 'Node Type': string; 'Plan Rows': number; Plans?: Array<{ 'Plan Rows': number }> } }> })['QUERY PLAN'][0]?.Plan;
        const rows = plan?.['Node Type'] === 'ModifyTable' ? plan.Plans?.[0]?.['Plan Rows'] : plan?.['Plan Rows'];
        if (typeof rows === 'number') Object.assign(entry, { rows: Math.round(rows), estimated: true });
      } catch {
        await client.query('ROLLBACK TO SAVEPOINT countersign_explain');
        entry.note = 'no estimate: the statement depends on an earlier statement in the input, or the planner refused it';
      }
    }
  } finally {
    await client.query('ROLLBACK');
  }
  return out;
}
