import type pg from 'pg';
import { maskRows } from '../../domain/sql-mask.js';
import type { SqlStatementPreview } from '../../domain/sql-preview.js';
import type { ParsedStatement } from './pg-parse.js';
import { funcName, rangeVarName, walk } from './pg-parse.js';
import { quoteIdent } from './postgres-risk.js';
import { maskForResult, mayReadMasked } from './postgres-mask.js';
import type { PostgresTargetSettings } from './postgres-settings.js';
import { queryArrays } from './postgres-types.js';
import type { RewrittenDml } from './sql-rewrite.js';
import { mayReveal } from './sql-rewrite.js';
import { statementType } from './sql-statement-kind.js';

/** The rows an UPDATE or DELETE would touch, found by its rewritten SELECT. */
export interface RewrittenSample {
  count: number;
  columns: string[];
  before: unknown[][];
  /** UPDATE: the same rows with the assigned columns' new values. */
  after: unknown[][];
  /** Assigned columns whose new value is computed from other values and may reveal a masked one. */
  revealing: Set<string>;
  /** With `keyColumns`: each sampled row's key (its key columns' text, joined by U+001F). */
  keys: string[];
}

/** A row's key from its key columns' values (as text, the way `::text` writes ints, text and uuids). */
export const rowKey = (values: unknown[]) => values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\u001f');

const HIDDEN = /^countersign_/;

/** The assigned columns whose new value may carry a masked column's value (masked in the after sample). */
async function revealingColumns(client: pg.ClientBase, s: ParsedStatement, rw: RewrittenDml, t: PostgresTargetSettings): Promise<Set<string>> {
  const computed = rw.assigned.filter((_, i) => !rw.constant[i]);
  if (computed.length === 0 || !(await mayReadMasked(client, t.mask, s))) return new Set();
  const called = new Set<string>();
  for (const v of rw.values) for (const [k, n] of walk({ x: v })) if (k === 'FuncCall') called.add((funcName(n).at(-1) ?? '').toLowerCase());
  const user = called.size
    ? await client.query<{ name: string }>(
        `SELECT DISTINCT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = ANY($1) AND n.nspname <> 'pg_catalog'`,
        [[...called]],
      )
    : { rows: [] };
  const userFunctions = new Set(user.rows.map((r) => r.name));
  const maskedNames = new Set(t.mask.map((r) => r.column));
  return new Set(rw.assigned.filter((_, i) => !rw.constant[i] && mayReveal(rw.values[i], maskedNames, userFunctions)));
}

/** Counts and samples a rewritten UPDATE/DELETE, each target row once, masked. */
export async function sampleRewritten(
  client: pg.ClientBase,
  s: ParsedStatement,
  rw: RewrittenDml,
  params: unknown[],
  t: PostgresTargetSettings,
  keyColumns: readonly string[] = [],
): Promise<RewrittenSample> {
  const n = t.preview.sampleRows;
  const count = await client.query<{ n: string }>(
    `SELECT count(*)::int8::text AS n FROM (SELECT DISTINCT countersign_tableoid, countersign_ctid FROM (\n${rw.sql}\n) AS q) AS d`,
    params,
  );
  const r = await queryArrays(
    client,
    `SELECT DISTINCT ON (countersign_tableoid, countersign_ctid) * FROM (\n${rw.sql}\n) AS q ORDER BY countersign_tableoid, countersign_ctid LIMIT ${n}`,
    params,
  );
  const width = r.fields.findIndex((f) => HIDDEN.test(f.name));
  const tableFields = r.fields.slice(0, width);
  const columns = tableFields.map((f) => f.name);
  const mask = await maskForResult(client, t.mask, s, tableFields, { written: false });
  const revealing = await revealingColumns(client, s, rw, t);
  const before = r.rows.map((row) => row.slice(0, width));
  const after = r.rows.map((row) => {
    const next = row.slice(0, width);
    rw.assigned.forEach((name, i) => {
      const at = columns.indexOf(name);
      if (at >= 0) next[at] = row[width + i];
    });
    return next;
  });
  const afterMask = columns.map((c, i) => (mask[i] ?? true) || revealing.has(c));
  const at = keyColumns.map((k) => columns.indexOf(k));
  const keys = at.length && at.every((i) => i >= 0) ? before.map((row) => rowKey(at.map((i) => row[i]))) : [];
  return { count: Number(count.rows[0]?.n ?? 0), columns, before: maskRows(before, mask), after: maskRows(after, afterMask), revealing, keys };
}

/** Whether a column of an UPDATE's after rows is masked because its new value is computed from others. */
export const assignedMask = (sample: RewrittenSample, column: string) => sample.revealing.has(column);

/** How many rows a TRUNCATE would remove (tables as written; CASCADE'd tables are not counted). */
export async function truncateCount(client: pg.ClientBase, s: ParsedStatement): Promise<number | null> {
  let total = 0;
  for (const r of (s.node.relations as Array<{ RangeVar?: Record<string, unknown> }> | undefined) ?? []) {
    const rv = rangeVarName(r.RangeVar);
    if (!rv) return null;
    const name = rv.schema ? `${quoteIdent(rv.schema)}.${quoteIdent(rv.name)}` : quoteIdent(rv.name);
    const n = await client.query<{ n: string }>(`SELECT count(*)::int8::text AS n FROM ${r.RangeVar?.inh === false ? 'ONLY ' : ''}${name}`);
    total += Number(n.rows[0]?.n ?? 0);
  }
  return total;
}

/** A read: how many rows it returns and the first few, masked. Runs the SELECT as a subquery, nothing else. */
export async function sampleRead(client: pg.ClientBase, s: ParsedStatement, params: unknown[], t: PostgresTargetSettings): Promise<SqlStatementPreview> {
  const r = await queryArrays(client, `SELECT count(*) OVER () AS countersign_rows, q.* FROM (\n${s.text}\n) AS q LIMIT ${t.preview.sampleRows}`, params);
  const fields = r.fields.slice(1);
  const mask = await maskForResult(client, t.mask, s, fields, { written: false });
  return {
    index: s.index,
    type: statementType(s),
    rows: r.rows.length ? Number(r.rows[0]?.[0]) : 0,
    columns: fields.map((f) => f.name),
    before: maskRows(
      r.rows.map((row) => row.slice(1)),
      mask,
    ),
  };
}
