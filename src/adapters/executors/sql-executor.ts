import type pg from 'pg';
import Cursor from 'pg-cursor';
import { fingerprintOf } from '../../domain/action.js';
import type { ActionRecord } from '../../domain/action-record.js';
import { sqlPreviewOf } from '../../domain/action-record.js';
import type { ExecutionFailureCode, ExecutorResult } from '../../domain/execution-failure.js';
import { executionFailure } from '../../domain/execution-failure.js';
import { checkDrift } from '../../domain/sql-drift.js';
import { maskRows } from '../../domain/sql-mask.js';
import type { Executor } from '../../ports/executor.js';
import type { ParsedStatement } from '../sql/pg-parse.js';
import { parseStatements, walk } from '../sql/pg-parse.js';
import { isConnectionError, safePgError, urlSecrets } from '../sql/postgres-errors.js';
import type { FieldInfo } from '../sql/postgres-mask.js';
import { maskForResult } from '../sql/postgres-mask.js';
import type { PgPools } from '../sql/postgres-pool.js';
import { backendPid, guardClient } from '../sql/postgres-pool.js';
import type { PostgresTargetSettings } from '../sql/postgres-settings.js';
import { resultTypes } from '../sql/postgres-types.js';
import { readSqlInput } from '../sql/sql-input.js';
import { isDml, isRead, leavesSessionState, statementType } from '../sql/sql-statement-kind.js';
import { watchDrift } from '../sql/sql-drift-watch.js';

export interface SqlExecutorOptions {
  targets: ReadonlyMap<string, PostgresTargetSettings>;
  pools: PgPools;
}

/** One statement's result as returned to the agent. */
export interface SqlStatementResult {
  index: number;
  type: string;
  /** Rows affected (DML) or returned (reads); null when a truncated read was not counted to its end. */
  rowCount: number | null;
  columns?: string[];
  rows?: unknown[][];
  /** Rows were left out to stay within `limits.maxRows` / `limits.maxBytes`. */
  truncated?: boolean;
}

const QUERY_CANCELED = '57014';
const BATCH = 200;

interface Refusal {
  refused: ExecutionFailureCode;
  message: string;
}
const refuse = (refused: ExecutionFailureCode, message: string): Refusal => ({ refused, message });

interface Budget {
  rows: number;
  bytes: number;
}

function readBatch(cursor: Cursor, n: number): Promise<{ rows: unknown[][]; result: pg.QueryResult | undefined }> {
  return new Promise((resolve, reject) => {
    cursor.read(n, (err, rows, result) => (err ? reject(err) : resolve({ rows: rows as unknown[][], result })));
  });
}

/**
 * Runs one statement through a portal, keeping rows while the budget lasts. Writes are
 * read to their end (their count is what drift compares); a read stops once the budget
 * is spent, so an export of a large table never streams through the gateway.
 */
async function runStatement(client: pg.PoolClient, s: ParsedStatement, params: unknown[], budget: Budget) {
  const cursor = client.query(new Cursor(s.text, params, { rowMode: 'array', types: resultTypes }));
  const kept: unknown[][] = [];
  let seen = 0;
  let truncated = false;
  let fields: FieldInfo[] = [];
  let rowCount: number | null = null;
  for (;;) {
    const { rows, result } = await readBatch(cursor, BATCH);
    if (result?.fields) fields = result.fields.map((f) => ({ name: f.name, tableID: f.tableID, columnID: f.columnID }));
    for (const row of rows) {
      seen++;
      const size = Buffer.byteLength(JSON.stringify(row));
      if (!truncated && budget.rows > 0 && budget.bytes >= size) {
        kept.push(row);
        budget.rows--;
        budget.bytes -= size;
      } else truncated = true;
    }
    if (rows.length === 0) {
      rowCount = result?.rowCount ?? seen;
      break;
    }
    if (truncated && isRead(s)) {
      await cursor.close();
      break;
    }
  }
  return { fields, kept, truncated, rowCount };
}

/**
 * The `sql` executor for `postgres` targets: the whole input in one transaction, params
 * bound server side, statement_timeout from the target's limits (and the gateway cancels
 * the whole input when that time has passed, whatever the statements set), results
 * bounded by maxRows/maxBytes and masked, and the effect compared with the approved
 * preview before COMMIT: on drift it rolls back and fails with both figures. Never
 * throws; no result or error holds the connection URL or its credentials.
 */
export function createSqlExecutor(opts: SqlExecutorOptions): Executor {
  const { targets, pools } = opts;
  // Agents repeat the same statements with other params: their parse is kept (read-only here).
  const parsed = new Map<string, ParsedStatement[]>();
  const parse = async (sql: string) => {
    const hit = parsed.get(sql);
    if (hit) return hit;
    const statements = await parseStatements(sql);
    if (sql.length <= 4096) {
      if (parsed.size >= 256) parsed.delete(parsed.keys().next().value as string);
      parsed.set(sql, statements);
    }
    return statements;
  };

  async function prepare(action: ActionRecord): Promise<Refusal | { t: PostgresTargetSettings; statements: ParsedStatement[]; params: unknown[] }> {
    if (action.status !== 'running') return refuse('NOT_RUNNING', `the action is ${action.status}; only a running action is executed`);
    let expected: string;
    try {
      expected = fingerprintOf({ kind: action.kind, target: action.target, input: action.input, requester: action.requester.id });
    } catch {
      return refuse('FINGERPRINT_MISMATCH', 'the action cannot be fingerprinted; nothing was run');
    }
    if (expected !== action.fingerprint) return refuse('FINGERPRINT_MISMATCH', 'the action does not match its approved fingerprint; nothing was run');
    const t = targets.get(action.target);
    if (!t) return refuse('TARGET_NOT_FOUND', `no postgres target named "${action.target}"`);
    if (action.kind !== 'sql') return refuse('KIND_MISMATCH', `target "${action.target}" is a postgres target; the action is ${action.kind}`);
    const input = readSqlInput(action.input);
    if (typeof input === 'string') return refuse('VALIDATION_FAILED', input);
    let statements: ParsedStatement[];
    try {
      statements = await parse(input.statement);
    } catch (e) {
      return refuse('VALIDATION_FAILED', `the statement does not parse: ${(e as Error).message}`);
    }
    if (statements.length === 0) return refuse('VALIDATION_FAILED', 'the input holds no statement');
    const control = statements.find((s) => s.nodeType === 'TransactionStmt');
    if (control) {
      return refuse('VALIDATION_FAILED', `statement ${control.index + 1} is transaction control; the gateway runs the whole input in one transaction`);
    }
    // The protocol's copy sub-protocol would stall a portal; server-side COPY (file, PROGRAM) is policy's call.
    const stream = statements.find((s) => s.nodeType === 'CopyStmt' && !s.node.filename && !s.node.is_program);
    if (stream) return refuse('VALIDATION_FAILED', `statement ${stream.index + 1}: COPY ... FROM STDIN / TO STDOUT is not supported through the gateway`);
    // READ ONLY (below) does not stop EXPLAIN ANALYZE CREATE TABLE AS / MATERIALIZED VIEW /
    // SELECT INTO: the new relation is made outside the executor's read-only check.
    if (action.facts?.sql?.readOnly === true) {
      const into = statements.find((s) => [...walk({ [s.nodeType]: s.node })].some(([k]) => k === 'IntoClause' || k === 'CreateTableAsStmt'));
      if (into) return refuse('VALIDATION_FAILED', `statement ${into.index + 1} creates a relation (CREATE TABLE AS, SELECT INTO), which the action's read-only facts did not show; nothing was run`);
    }
    return { t, statements, params: input.params };
  }

  async function run(action: ActionRecord, signal: AbortSignal | undefined): Promise<ExecutorResult> {
    const prepared = await prepare(action);
    if ('refused' in prepared) return executionFailure(prepared.refused, prepared.message);
    if (signal?.aborted) return executionFailure('ABORTED', 'the execution was cancelled before anything was run');
    const { t, statements, params } = prepared;
    const preview = sqlPreviewOf(action);
    // An approved preview that failed or timed out approved no figure: refused before anything runs.
    const unusable = checkDrift(preview?.status === 'failed' || preview?.status === 'timeout' ? preview : undefined, []);
    if (!unusable.ok) return executionFailure('PREVIEW_UNAVAILABLE', unusable.message, { body: { drift: { kind: 'no-preview', status: preview?.status } }, bodyEncoding: 'json' });
    const secrets = urlSecrets(t.url);
    const safe = (e: unknown) => safePgError(e, secrets, t.mask.length > 0);
    const pool = pools.primary(t);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
      guardClient(client);
    } catch (e) {
      return executionFailure('CONNECTION_FAILED', `cannot connect to target "${t.name}": ${safe(e).message}; nothing was run`);
    }
    const pid = backendPid(client);
    let timedOut = false;
    let aborted = false;
    // A cancel is sent from another connection and may land late: the connection it
    // targets is never reused (destroyed on release), so it cannot hit the next action.
    let destroy = statements.some(leavesSessionState);
    const cancel = () => {
      destroy = true;
      if (pid !== null) void pools.cancel(pool, pid);
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      cancel();
    }, t.limits.statementTimeoutMs);
    const onAbort = () => {
      aborted = true;
      cancel();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let current = -1;
    // One statement with no approved figure to compare is atomic on its own: no BEGIN/COMMIT
    // round trips on the allowed path. Otherwise the whole input runs in one transaction,
    // so that drift can still roll it back.
    // Defence in depth: input policy judged read-only runs in a READ ONLY transaction, so
    // PostgreSQL refuses any write a mistake in the facts (or a function overload) lets through.
    const readOnly = action.facts?.sql?.readOnly === true;
    const own = !readOnly && statements.length === 1 && (preview === undefined || preview.status === 'skipped');
    try {
      if (!own) await client.query(readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
      const watch = await watchDrift(client, preview, statements);
      const budget: Budget = { rows: t.limits.maxRows, bytes: t.limits.maxBytes };
      const results: SqlStatementResult[] = [];
      for (const s of statements) {
        current = s.index;
        const r = await runStatement(client, s, params.slice(0, s.maxParam), budget);
        await watch.after([s]);
        const entry: SqlStatementResult = { index: s.index, type: statementType(s), rowCount: r.truncated && isRead(s) ? null : r.rowCount };
        if (r.fields.length > 0) {
          // No rows kept, nothing to mask: no catalog round trip.
          const mask = r.kept.length > 0 ? await maskForResult(client, t.mask, s, r.fields) : [];
          Object.assign(entry, { columns: r.fields.map((f) => f.name), rows: maskRows(r.kept, mask) });
        }
        if (r.truncated) entry.truncated = true;
        results.push(entry);
      }
      current = -1;
      const executed = results.map((r, i) => (isDml(statements[i]!) ? r.rowCount : null));
      const verdict = await watch.verdict(executed, action.drift);
      if (!verdict.ok) {
        await client.query('ROLLBACK');
        const { ok: _ok, message, ...figures } = verdict;
        return executionFailure(verdict.kind === 'no-preview' ? 'PREVIEW_UNAVAILABLE' : 'DRIFT', message, { body: { drift: figures }, bodyEncoding: 'json' });
      }
      if (!own) await client.query('COMMIT');
      const truncated = results.some((r) => r.truncated);
      return { ok: true, body: { statements: results, truncated }, bodyEncoding: 'json', ...(truncated ? { bodyTruncated: true } : {}) };
    } catch (e) {
      if (!own) await client.query('ROLLBACK').catch(() => (destroy = true));
      const err = safe(e);
      const where = current >= 0 && statements.length > 1 ? `statement ${current + 1}: ` : '';
      if (aborted) return executionFailure('ABORTED', 'the execution was cancelled; everything was rolled back');
      if (timedOut || err.code === QUERY_CANCELED) {
        return executionFailure('TIMEOUT', `${where}the statements did not finish within ${t.limits.statementTimeoutMs} ms; everything was rolled back`);
      }
      if (isConnectionError(e)) {
        destroy = true;
        return executionFailure('CONNECTION_FAILED', `${where}${err.message}; the transaction was not committed`);
      }
      return executionFailure('EXECUTION_FAILED', `${where}${err.message} (SQLSTATE ${err.code}); everything was rolled back`, {
        body: { error: { ...err, ...(current >= 0 ? { statement: current } : {}) } },
        bodyEncoding: 'json',
      });
    } finally {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      client.release(destroy);
    }
  }

  return {
    async execute(action, signal) {
      try {
        return await run(action, signal);
      } catch {
        // Only a malformed record gets here (the checks above read its fields).
        return executionFailure('VALIDATION_FAILED', 'the action record is malformed; nothing was run');
      }
    },
  };
}
