/** Clauses of a parse tree the walk (sql-walk.ts) reads: EXPLAIN's options, a WHERE, a bare RangeVar. */
import type { SqlNode } from './sql-tree.js';
import { fieldsOf, listOf, nodeOf, str } from './sql-tree.js';

/** EXPLAIN ANALYZE runs the statement; `(ANALYZE false)` does not. */
export function explainAnalyzes(options: unknown): boolean {
  for (const o of listOf(options)) {
    const d = fieldsOf(o, 'DefElem');
    if (str(d?.defname) !== 'analyze') continue;
    const arg = nodeOf(d?.arg);
    if (!arg) return true;
    const [kind, v] = arg;
    if (kind === 'Boolean') return v.boolval === true;
    if (kind === 'Integer') return typeof v.ival === 'number' && v.ival !== 0;
    return !['false', 'off', 'no', '0'].includes(str(v.sval)?.toLowerCase() ?? 'false');
  }
  return false;
}

/** A WHERE naming no column (`WHERE true`, `WHERE 1 = 1`, `WHERE $1`) keeps or drops every row alike. */
export function namesColumn(where: unknown): boolean {
  if (where === undefined) return false;
  const stack: unknown[] = [where];
  while (stack.length) {
    const v: unknown = stack.pop();
    if (Array.isArray(v)) stack.push(...(v as unknown[]));
    else if (typeof v === 'object' && v !== null) {
      const n = nodeOf(v);
      if (n && (n[0] === 'ColumnRef' || n[0] === 'CurrentOfExpr')) return true;
      stack.push(...(Object.values(v) as unknown[]));
    }
  }
  return false;
}

/** A RangeVar written without its node wrapper (a statement's `relation` field). */
export function isBareRangeVar(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as SqlNode).relname === 'string' && 'relpersistence' in v;
}
