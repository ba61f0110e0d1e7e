/**
 * Column masking for `sql` targets: rules `[schema.]table.column` (no schema = any
 * schema, `*` as the table = any table) decide which columns are replaced by MASKED in
 * results, previews and the audit log. Rules match a column by where its values come
 * from (the table and column PostgreSQL reports for a result field), not by the name it
 * is shown under, so `SELECT email AS e FROM users` is masked too.
 *
 * Values with no traceable source (an expression such as `upper(email)`, a column of a
 * view or of a function) cannot be matched to a rule: the adapter decides whether the
 * statement could have read a masked column and, if it could, masks them all
 * (`maskUntraced`). Fail closed: a value is shown only when it is known not to be masked.
 */

import { DEFAULT_SCHEMA, UNKNOWN_SCHEMA } from './sql-search-path.js';

export const MASKED = '[masked]';

export interface SqlMaskRule {
  /** null: any schema. */
  schema: string | null;
  /** null: any table (`*`). */
  table: string | null;
  column: string;
}

/** Where a result column's values come from; null when PostgreSQL reports no table column. */
export interface ColumnSource {
  schema: string;
  table: string;
  column: string;
}

/**
 * One identifier of a rule: unquoted parts fold to lower case as PostgreSQL folds them
 * (`Users.Email` is `users.email`); double-quoted parts keep their case and may hold dots.
 */
function splitIdentifiers(rule: string): string[] | null {
  const parts: string[] = [];
  let i = 0;
  while (i <= rule.length) {
    let part = '';
    if (rule[i] === '"') {
      i++;
      for (;;) {
        if (i >= rule.length) return null;
        if (rule[i] === '"') {
          if (rule[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += rule[i++];
      }
      if (part === '') return null;
    } else {
      const start = i;
      while (i < rule.length && rule[i] !== '.') i++;
      part = rule.slice(start, i).trim();
      if (part !== '*' && !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(part)) return null;
      part = part.toLowerCase();
    }
    parts.push(part);
    if (i >= rule.length) break;
    if (rule[i] !== '.') return null;
    i++;
    if (i >= rule.length) return null;
  }
  return parts;
}

/** Parses `[schema.]table.column` rules; throws a message naming the bad rule. */
export function parseMaskRules(rules: readonly string[]): SqlMaskRule[] {
  return rules.map((rule) => {
    const parts = splitIdentifiers(rule);
    if (!parts || parts.length < 2 || parts.length > 3) {
      throw new Error(`mask rule "${rule}" is not [schema.]table.column (no schema = any schema, * = any table)`);
    }
    const [a, b, c] = parts as [string, string, string | undefined];
    const [schema, table, column] = c === undefined ? [null, a, b] : [a, b, c];
    if (column === '*' || schema === '*') throw new Error(`mask rule "${rule}": only the table may be *`);
    return { schema, table: table === '*' ? null : table, column };
  });
}

export function columnIsMasked(rules: readonly SqlMaskRule[], col: ColumnSource): boolean {
  return rules.some(
    (r) => r.column === col.column && (r.table === null || r.table === col.table) && (r.schema === null || r.schema === col.schema),
  );
}

/**
 * Which result columns to mask, in order: those whose source matches a rule, and those
 * with no source when `maskUntraced` (the statement may have read a masked column).
 */
export function maskedColumns(rules: readonly SqlMaskRule[], sources: ReadonlyArray<ColumnSource | null>, maskUntraced: boolean): boolean[] {
  if (rules.length === 0) return sources.map(() => false);
  return sources.map((s) => (s === null ? maskUntraced : columnIsMasked(rules, s)));
}

/** The rows with the masked columns' values replaced by MASKED (nulls too: absence is information). */
export function maskRows(rows: readonly unknown[][], masked: readonly boolean[]): unknown[][] {
  if (!masked.some(Boolean)) return rows.map((r) => [...r]);
  return rows.map((r) => r.map((v, i) => (masked[i] ? MASKED : v)));
}

/**
 * Whether a param of a statement over these tables (`schema.table`, as the facts name
 * them) may be bound to a masked column. Conservative on purpose: a param can reach a
 * column through any expression (`lower($1)`, `INSERT ... VALUES` without a column
 * list), so every table with a masked column counts, named columns or not.
 */
export function touchesMaskedTable(rules: readonly SqlMaskRule[], tables: readonly string[]): boolean {
  if (rules.length === 0) return false;
  return tables.some((qualified) => {
    // `*` (dynamic SQL: any relation) and `*.name` (schema unknown) may be any masked table.
    if (qualified === UNKNOWN_SCHEMA) return true;
    const dot = qualified.indexOf('.');
    const schema = dot < 0 ? DEFAULT_SCHEMA : qualified.slice(0, dot);
    const table = dot < 0 ? qualified : qualified.slice(dot + 1);
    return rules.some((r) => (r.table === null || r.table === table) && (r.schema === null || schema === UNKNOWN_SCHEMA || r.schema === schema));
  });
}
