import type { SqlTableChanges } from '../../domain/sql-preview.js';
import type { Queryable } from './postgres-catalog.js';

/**
 * The session's pending row counters per user table (pg_stat_xact_user_tables): they count
 * every row, whichever statement, function, trigger or cascade changed it, but also hold
 * the session's earlier transactions until they are flushed (never inside a transaction
 * block). Read once after BEGIN and once before the end; `changesSince` is the difference.
 * Temporary tables are left out: their schema differs between sessions.
 */
export async function tableCounters(client: Queryable): Promise<Record<string, SqlTableChanges>> {
  const r = await client.query(
    `SELECT quote_ident(schemaname) || '.' || quote_ident(relname) AS name, n_tup_ins::int8::text AS i, n_tup_upd::int8::text AS u, n_tup_del::int8::text AS d
       FROM pg_stat_xact_user_tables WHERE schemaname NOT LIKE 'pg\\_temp\\_%' AND n_tup_ins + n_tup_upd + n_tup_del > 0`,
  );
  const out: Record<string, SqlTableChanges> = {};
  for (const row of r.rows) out[String(row.name)] = { inserted: Number(row.i), updated: Number(row.u), deleted: Number(row.d) };
  return out;
}

/** The rows changed since `baseline` (read in the same transaction), per table; tables with no change left out. */
export async function changesSince(client: Queryable, baseline: Record<string, SqlTableChanges>): Promise<Record<string, SqlTableChanges>> {
  const now = await tableCounters(client);
  const out: Record<string, SqlTableChanges> = {};
  for (const [table, c] of Object.entries(now)) {
    const b = baseline[table] ?? { inserted: 0, updated: 0, deleted: 0 };
    const d = { inserted: c.inserted - b.inserted, updated: c.updated - b.updated, deleted: c.deleted - b.deleted };
    if (d.inserted !== 0 || d.updated !== 0 || d.deleted !== 0) out[table] = d;
  }
  return out;
}
