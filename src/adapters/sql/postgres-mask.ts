import type { ColumnSource, SqlMaskRule } from '../../domain/sql-mask.js';
import { columnIsMasked, maskedColumns } from '../../domain/sql-mask.js';
import type { Queryable } from './postgres-catalog.js';
import { asText } from './postgres-catalog.js';
import type { ParsedStatement } from './pg-parse.js';
import { funcName, rangeVarName, walk } from './pg-parse.js';
import { quoteIdent } from './postgres-risk.js';
import { mayReveal } from './sql-rewrite.js';

/** What node-postgres says of a result column: its name and, when it is a table column, where it comes from. */
export interface FieldInfo {
  name: string;
  tableID: number;
  columnID: number;
}

const TABLE_KINDS = new Set(['r', 'p', 'f']);

/**
 * Whether values with no traceable source may hold a masked column: true when the
 * statement reads a relation that has a masked column, a relation that is not a plain
 * table (a view, whose columns PostgreSQL reports as the view's), a relation that cannot
 * be resolved, or calls a function outside pg_catalog (whose code may read anything).
 */
export async function mayReadMasked(client: Queryable, rules: readonly SqlMaskRule[], s: ParsedStatement): Promise<boolean> {
  if (rules.length === 0) return false;
  const ctes = new Set<string>();
  const names = new Set<string>();
  const funcs = new Set<string>();
  for (const [t, n] of walk(s.node)) if (t === 'CommonTableExpr' && typeof n.ctename === 'string') ctes.add(n.ctename);
  for (const [t, n] of walk(s.node)) {
    if (t === 'RangeVar') {
      const rv = rangeVarName(n);
      if (rv && !(rv.schema === null && ctes.has(rv.name))) names.add(rv.schema ? `${quoteIdent(rv.schema)}.${quoteIdent(rv.name)}` : quoteIdent(rv.name));
    }
    if (t === 'RangeFunction') return true;
    if (t === 'FuncCall') {
      const parts = funcName(n);
      if (parts.length === 1 || parts[0] !== 'pg_catalog') funcs.add((parts.at(-1) ?? '').toLowerCase());
    }
  }
  names.delete('');
  if (funcs.size > 0) {
    const r = await client.query(
      `SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = ANY($1) AND n.nspname NOT IN ('pg_catalog', 'information_schema') LIMIT 1`,
      [[...funcs]],
    );
    if (r.rows.length > 0) return true;
  }
  if (names.size === 0) return false;
  const r = await client.query(
    `SELECT x.name, c.relkind, n.nspname, c.relname, array_agg(a.attname::text) FILTER (WHERE a.attname IS NOT NULL) AS cols
       FROM unnest($1::text[]) AS x(name) LEFT JOIN pg_class c ON c.oid = to_regclass(x.name)
       LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      GROUP BY x.name, c.relkind, n.nspname, c.relname`,
    [[...names]],
  );
  return r.rows.some((row) => {
    // An unresolved name is a CTE or a relation created earlier in the same input: unknown, so masked.
    if (row.relkind === null || !TABLE_KINDS.has(asText(row.relkind))) return true;
    const cols = (row.cols as string[] | null) ?? [];
    return cols.some((column) => columnIsMasked(rules, { schema: String(row.nspname), table: String(row.relname), column }));
  });
}

/** A client that can run a named (prepared once per connection) query. */
export interface PreparingQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  query(cfg: { text: string; values: unknown[] }): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** The source table column of each field (null for expressions and non-table relations), resolved in one query. */
export async function fieldSources(client: PreparingQueryable, fields: readonly FieldInfo[]): Promise<Array<ColumnSource | null>> {
  const pairs = fields.filter((f) => f.tableID > 0 && f.columnID > 0);
  if (pairs.length === 0) return fields.map(() => null);
  // Not a named prepared statement: a server session can outlive the client's connection
  // (PGlite's single backend, a pooler in transaction mode), and the name would collide.
  const r = await client.query({
    text: `SELECT c.oid::int8::text AS rel, a.attnum AS num, n.nspname, c.relname, a.attname, c.relkind
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum = ANY($2::int2[])`,
    values: [[...new Set(pairs.map((f) => f.tableID))], [...new Set(pairs.map((f) => f.columnID))]],
  });
  const found = new Map<string, ColumnSource | null>();
  for (const row of r.rows) {
    const src = TABLE_KINDS.has(String(row.relkind)) ? { schema: String(row.nspname), table: String(row.relname), column: String(row.attname) } : null;
    found.set(`${String(row.rel)}:${String(row.num)}`, src);
  }
  return fields.map((f) => found.get(`${f.tableID}:${f.columnID}`) ?? null);
}

/** Which of a result's columns to mask, for a statement. */
export async function maskForResult(
  client: PreparingQueryable,
  rules: readonly SqlMaskRule[],
  s: ParsedStatement,
  fields: readonly FieldInfo[],
  opts: { written: boolean } = { written: true },
): Promise<boolean[]> {
  if (rules.length === 0) return fields.map(() => false);
  const sources = await fieldSources(client, fields);
  const untraced = sources.some((x) => x === null) ? await mayReadMasked(client, rules, s) : false;
  const masked = maskedColumns(rules, sources, untraced);
  // Values written by the statement itself (RETURNING) come from what it wrote: an INSERT
  // copying from a table with a masked column, an UPDATE assigning one, may return it
  // under an unmasked column's name.
  const written = opts.written ? await writtenMayReveal(client, rules, s) : null;
  return masked.map((m, i) => m || written === 'all' || (written instanceof Set && written.has(fields[i]?.name ?? '')));
}

/**
 * Which returned columns of a DML statement may carry a masked value it wrote: 'all' for
 * an INSERT whose source may read a masked column; for an UPDATE, the assigned columns
 * whose value names a masked column, a whole row, a subquery or any function.
 */
async function writtenMayReveal(client: Queryable, rules: readonly SqlMaskRule[], s: ParsedStatement): Promise<'all' | Set<string> | null> {
  if (s.nodeType === 'InsertStmt') {
    const source = (s.node.selectStmt as { SelectStmt?: Record<string, unknown> } | undefined)?.SelectStmt;
    if (!source) return null;
    return (await mayReadMasked(client, rules, { ...s, nodeType: 'SelectStmt', node: source })) ? 'all' : null;
  }
  if (s.nodeType !== 'UpdateStmt') return null;
  const sets = (s.node.targetList as Array<{ ResTarget?: { name?: string; val?: unknown } }> | undefined) ?? [];
  const maskedNames = new Set(rules.map((r) => r.column));
  const calls = new Set<string>();
  for (const t of sets) for (const [k, n] of walk({ x: t.ResTarget?.val })) if (k === 'FuncCall') calls.add((funcName(n).at(-1) ?? '').toLowerCase());
  const user = calls.size
    ? await client.query(`SELECT DISTINCT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = ANY($1) AND n.nspname <> 'pg_catalog'`, [[...calls]])
    : { rows: [] };
  const userFunctions = new Set(user.rows.map((r) => asText(r.name)));
  const names = sets.filter((t) => mayReveal(t.ResTarget?.val, maskedNames, userFunctions)).map((t) => t.ResTarget?.name ?? '');
  if (names.length === 0 || !(await mayReadMasked(client, rules, s))) return null;
  return new Set(names);
}
