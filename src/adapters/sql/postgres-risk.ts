import type { Queryable } from './postgres-catalog.js';
import { asText } from './postgres-catalog.js';
import type { ParsedStatement } from './pg-parse.js';
import { funcName, rangeVarName, walk } from './pg-parse.js';
import { RISKY_BODY } from './sql-no-preview.js';

/** The DML target of a statement, as a name PostgreSQL resolves with the session's search_path. */
export function dmlTarget(s: ParsedStatement): string | null {
  if (!['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'].includes(s.nodeType)) return null;
  const rv = rangeVarName(s.node.relation);
  if (!rv) return null;
  return rv.schema ? `${quoteIdent(rv.schema)}.${quoteIdent(rv.name)}` : quoteIdent(rv.name);
}

/** Code that inserts rows may draw from a sequence (a serial column's default), which a rollback does not undo. */
const INSERTS = /\b(insert)\b/i;

export const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

export interface TriggerInfo {
  name: string;
  /** BEFORE ROW or INSTEAD OF: may change or skip the rows themselves. */
  changesRows: boolean;
}

/** Triggers that would fire and rules that would rewrite DML on a relation. */
export async function triggersAndRules(client: Queryable, relation: string): Promise<{ triggers: TriggerInfo[]; rules: string[] }> {
  const t = await client.query(
    `SELECT t.tgname AS name, (t.tgtype & 1) = 1 AND (t.tgtype & 66) <> 0 AS changes_rows
       FROM pg_trigger t WHERE t.tgrelid = to_regclass($1) AND NOT t.tgisinternal AND t.tgenabled <> 'D' ORDER BY t.tgname`,
    [relation],
  );
  const r = await client.query(`SELECT rulename AS name FROM pg_rewrite WHERE ev_class = to_regclass($1) AND rulename <> '_RETURN' ORDER BY rulename`, [relation]);
  return {
    triggers: t.rows.map((x) => ({ name: String(x.name), changesRows: x.changes_rows === true })),
    rules: r.rows.map((x) => String(x.name)),
  };
}

/**
 * Effects a rollback would not undo that only the catalog reveals: an INSERT that draws
 * from a sequence (serial and identity columns), triggers and rules whose code may act
 * outside the transaction, and functions the statements call that do (or that are not
 * SQL or PL/pgSQL, whose code cannot be read). Fail closed: a match skips the preview.
 * `writes: false` (the select preview, where nothing is written and no trigger fires)
 * checks the called functions only.
 */
export async function catalogRisk(client: Queryable, statements: readonly ParsedStatement[], opts: { writes: boolean } = { writes: true }): Promise<string | null> {
  const prefix = (s: ParsedStatement) => (statements.length > 1 ? `statement ${s.index + 1}: ` : '');
  const called = new Set<string>();
  for (const s of statements) {
    for (const [t, n] of walk(s.node)) if (t === 'FuncCall') called.add(funcName(n).at(-1) ?? '');
    const target = opts.writes ? dmlTarget(s) : null;
    if (!target) continue;
    const seq = await client.query(
      `SELECT a.attname AS name FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
          AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) ~ 'nextval\\(')`,
      [target],
    );
    const seqCols = seq.rows.map((r) => String(r.name));
    if (seqCols.length > 0 && (s.nodeType === 'InsertStmt' || s.nodeType === 'MergeStmt' || s.nodeType === 'UpdateStmt')) {
      const listed = new Set(((s.node.cols as Array<{ ResTarget?: { name?: string } }> | undefined) ?? []).map((c) => c.ResTarget?.name));
      const usesDefault = [...walk(s.node)].some(([t]) => t === 'SetToDefault');
      const missing = s.nodeType === 'InsertStmt' ? seqCols.filter((c) => !listed.has(c)) : [];
      if (s.nodeType === 'MergeStmt' || usesDefault || missing.length > 0) {
        return `${prefix(s)}it would draw from the sequence of ${target} (${(missing.length ? missing : seqCols).join(', ')}), which a rollback does not undo; preview this target in select mode, or supply the values`;
      }
    }
    const trig = await client.query(
      `SELECT t.tgname AS name, l.lanname AS lang, p.prosrc AS src FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
         JOIN pg_language l ON l.oid = p.prolang
        WHERE t.tgrelid = to_regclass($1) AND NOT t.tgisinternal AND t.tgenabled <> 'D'`,
      [target],
    );
    for (const r of trig.rows) {
      const m = RISKY_BODY.exec(asText(r.src)) ?? INSERTS.exec(asText(r.src));
      if (!['sql', 'plpgsql'].includes(String(r.lang)) || m) {
        return `${prefix(s)}trigger ${String(r.name)} on ${target} ${m ? `uses ${m[1]}` : `is written in ${String(r.lang)}`}, which may act outside the transaction`;
      }
    }
    const rules = await client.query(`SELECT rulename AS name, pg_get_ruledef(oid) AS def FROM pg_rewrite WHERE ev_class = to_regclass($1) AND rulename <> '_RETURN'`, [target]);
    for (const r of rules.rows) {
      const m = /\b(nextval|setval|notify|dblink\w*)\b/i.exec(String(r.def));
      if (m) return `${prefix(s)}rule ${String(r.name)} on ${target} uses ${m[1]}, which a rollback does not undo`;
    }
  }
  called.delete('');
  if (called.size > 0) {
    const fns = await client.query(
      `SELECT p.proname AS name, l.lanname AS lang, p.prosrc AS src FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         JOIN pg_language l ON l.oid = p.prolang
        WHERE p.proname = ANY($1) AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
      // Names as parsed: a quoted "Bump" is not bump.
      [[...called]],
    );
    for (const r of fns.rows) {
      const m = RISKY_BODY.exec(asText(r.src)) ?? (opts.writes ? INSERTS.exec(asText(r.src)) : null);
      if (!['sql', 'plpgsql'].includes(String(r.lang)) || m) {
        return `function ${String(r.name)}() ${m ? `uses ${m[1]}` : `is written in ${String(r.lang)}`}, which may act outside the transaction`;
      }
    }
  }
  return null;
}

/** A table's primary key columns, in key order (empty when it has none). */
export async function primaryKey(client: Queryable, relation: string): Promise<string[]> {
  const r = await client.query(
    `SELECT a.attname AS name FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY k.n`,
    [relation],
  );
  return r.rows.map((x) => asText(x.name));
}

/** A relation's columns and their types (format_type), in order. */
export async function columnTypes(client: Queryable, relation: string): Promise<Map<string, string>> {
  const r = await client.query(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [relation],
  );
  return new Map(r.rows.map((x) => [String(x.name), String(x.type)]));
}
