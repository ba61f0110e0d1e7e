import type { ParsedStatement, PgNode } from './pg-parse.js';
import { deparse, parseStatements, rangeVarName, walk } from './pg-parse.js';

/**
 * DML rewritten from its parse tree into the SELECT that finds the same rows, for the
 * `select` preview (no writes) and for an UPDATE's "before" sample:
 * - `UPDATE t SET a = x FROM f WHERE c` -> `SELECT t.*, x, t.tableoid, t.ctid FROM t, f WHERE c`
 * - `DELETE FROM t USING u WHERE c`     -> `SELECT t.*, t.tableoid, t.ctid FROM t, u WHERE c`
 * - `INSERT INTO t (cols) SELECT ...`   -> the SELECT (or VALUES) itself
 * A join in FROM/USING can match a target row more than once; (tableoid, ctid) identifies
 * the row, so counts and samples take each row once, as the statement would.
 */
export interface RewrittenDml {
  /** A SELECT whose rows are the affected rows (before the change). */
  sql: string;
  /** UPDATE: the assigned columns, in order; their new values follow the table's columns. */
  assigned: string[];
  /** UPDATE: whether each assigned value is a constant or a parameter (shown even beside masked columns). */
  constant: boolean[];
  /** UPDATE: the assigned values' parse trees. */
  values: unknown[];
  /** The rows carry `countersign_tableoid` and `countersign_ctid` (UPDATE, DELETE). */
  keyed: boolean;
  /** INSERT: the target columns as listed (empty: the table's columns, in order). */
  insertColumns: string[];
}

const col = (...names: string[]): PgNode => ({ ColumnRef: { fields: names.map((n) => ({ String: { sval: n } })) } });
const star = (alias: string): PgNode => ({ ColumnRef: { fields: [{ String: { sval: alias } }, { A_Star: {} }] } });
const target = (val: PgNode, name?: string): PgNode => ({ ResTarget: { ...(name ? { name } : {}), val } });

const CONSTANT_NODES = new Set(['A_Const', 'ParamRef', 'TypeCast', 'TypeName', 'String', 'Integer', 'Float', 'Boolean', 'A_ArrayExpr', 'List']);

/** True when an expression holds only constants and parameters (it cannot reveal a column's value). */
export function isConstantExpression(expr: unknown): boolean {
  for (const [t] of walk({ x: expr })) if (!CONSTANT_NODES.has(t)) return false;
  return true;
}

/**
 * Whether an assigned value may carry a masked column's value: it names a masked column
 * (by name, in any table), expands a whole row, holds a subquery, or calls a function
 * listed in `userFunctions` (functions outside pg_catalog, whose code may read anything).
 */
export function mayReveal(expr: unknown, maskedNames: ReadonlySet<string>, userFunctions: ReadonlySet<string>): boolean {
  for (const [t, n] of walk({ x: expr })) {
    if (t === 'SubLink' || t === 'A_Star') return true;
    if (t === 'FuncCall') {
      const parts = (n.funcname as Array<{ String?: { sval?: string } }> | undefined) ?? [];
      if (userFunctions.has((parts.at(-1)?.String?.sval ?? '').toLowerCase())) return true;
    }
    if (t === 'ColumnRef') {
      const last = ((n.fields as Array<{ String?: { sval?: string } }> | undefined) ?? []).at(-1)?.String?.sval;
      if (last === undefined || maskedNames.has(last)) return true;
    }
  }
  return false;
}

/** Why a statement cannot be rewritten faithfully, or null. */
export function notRewritable(s: ParsedStatement): string | null {
  const ctes = ((s.node.withClause as { ctes?: unknown[] } | undefined)?.ctes ?? []) as Array<{ CommonTableExpr?: { ctequery?: Record<string, unknown> } }>;
  if (ctes.some((c) => ['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'].some((k) => k in (c.CommonTableExpr?.ctequery ?? {})))) {
    return 'a writable CTE (WITH ... INSERT/UPDATE/DELETE) cannot be previewed without running it';
  }
  if (s.nodeType === 'UpdateStmt') {
    for (const [t] of walk(s.node.targetList)) if (t === 'MultiAssignRef') return 'a multiple-column assignment (SET (a, b) = ...) is not rewritten';
  }
  if (s.nodeType === 'InsertStmt') {
    if (!s.node.selectStmt) return 'INSERT ... DEFAULT VALUES: the values are computed on insert';
    for (const [t] of walk(s.node.selectStmt)) if (t === 'SetToDefault') return 'DEFAULT values are computed on insert';
  }
  if (s.nodeType === 'MergeStmt') return 'MERGE is not rewritten';
  return null;
}

/** The parse tree of a type name (`numeric(10,2)`), for casting a new value to its column's type. */
async function typeNameNode(type: string): Promise<PgNode | null> {
  try {
    const [s] = await parseStatements(`SELECT NULL::${type}`);
    const tl = s?.node.targetList as Array<{ ResTarget: { val: { TypeCast?: { typeName: PgNode } } } }> | undefined;
    return tl?.[0]?.ResTarget.val.TypeCast?.typeName ?? null;
  } catch {
    return null;
  }
}

/**
 * `columnTypes` (column -> format_type) casts an UPDATE's new values to their columns'
 * types, as the assignment would: `SET active = $1` shows `false`, not the text 'false'.
 */
export async function rewriteDml(s: ParsedStatement, columnTypes: ReadonlyMap<string, string> = new Map()): Promise<RewrittenDml | null> {
  if (notRewritable(s)) return null;
  const n = s.node;
  const withClause = n.withClause ? { withClause: n.withClause } : {};
  const base = { limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' };
  if (s.nodeType === 'UpdateStmt' || s.nodeType === 'DeleteStmt') {
    const rv = rangeVarName(n.relation);
    if (!rv) return null;
    const alias = rv.alias ?? rv.name;
    const sets = s.nodeType === 'UpdateStmt' ? ((n.targetList as Array<{ ResTarget: { name: string; val: PgNode; indirection?: unknown } }>) ?? []) : [];
    if (sets.some((t) => t.ResTarget.indirection)) return null; // SET a[1] = ..., SET c.f = ...: not rewritten
    const extra = (s.nodeType === 'UpdateStmt' ? n.fromClause : n.usingClause) as PgNode[] | undefined;
    const select: PgNode = {
      SelectStmt: {
        targetList: [
          target(star(alias)),
          ...(await Promise.all(
            sets.map(async (t, i) => {
              const type = columnTypes.get(t.ResTarget.name);
              const typeName = type ? await typeNameNode(type) : null;
              const val = typeName ? { TypeCast: { arg: t.ResTarget.val, typeName } } : t.ResTarget.val;
              return target(val, `countersign_new_${i}`);
            }),
          )),
          target(col(alias, 'tableoid'), 'countersign_tableoid'),
          target(col(alias, 'ctid'), 'countersign_ctid'),
        ],
        fromClause: [{ RangeVar: n.relation }, ...(extra ?? [])],
        ...(n.whereClause ? { whereClause: n.whereClause } : {}),
        ...withClause,
        ...base,
      },
    };
    return {
      sql: await deparse(select),
      assigned: sets.map((t) => t.ResTarget.name),
      constant: sets.map((t) => isConstantExpression(t.ResTarget.val)),
      values: sets.map((t) => t.ResTarget.val),
      keyed: true,
      insertColumns: [],
    };
  }
  if (s.nodeType === 'InsertStmt') {
    const inner = n.selectStmt as { SelectStmt: Record<string, unknown> };
    const merged: PgNode = { SelectStmt: { ...inner.SelectStmt, ...(n.withClause && !inner.SelectStmt.withClause ? withClause : {}) } };
    return {
      sql: await deparse(merged),
      assigned: [],
      constant: [],
      values: [],
      keyed: false,
      insertColumns: ((n.cols as Array<{ ResTarget?: { name?: string } }> | undefined) ?? []).map((c) => c.ResTarget?.name ?? '?'),
    };
  }
  return null;
}
