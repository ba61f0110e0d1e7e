import type pg from 'pg';
import { columnIsMasked, maskRows } from '../../domain/sql-mask.js';
import type { SqlStatementPreview } from '../../domain/sql-preview.js';
import type { ParsedStatement } from './pg-parse.js';
import { rangeVarName, returningOf, walk } from './pg-parse.js';
import { maskForResult } from './postgres-mask.js';
import type { PreviewBody } from './postgres-preview-frame.js';
import { sampleRead, sampleRewritten, truncateCount } from './postgres-preview-samples.js';
import { deriveCatalogChanges } from './postgres-select-ddl.js';
import { reachRisk } from './postgres-reach.js';
import { catalogRisk, columnTypes, dmlTarget, triggersAndRules } from './postgres-risk.js';
import type { PostgresTargetSettings } from './postgres-settings.js';
import { queryArrays } from './postgres-types.js';
import { noPreviewReason } from './sql-no-preview.js';
import { notRewritable, rewriteDml } from './sql-rewrite.js';
import { isDml, isRead, statementType } from './sql-statement-kind.js';

/** What PostgreSQL would do beyond the rows themselves, which a SELECT cannot show. */
async function notFaithful(client: pg.ClientBase, s: ParsedStatement): Promise<{ note: string | null; countUnknown: boolean }> {
  const notes: string[] = [];
  let countUnknown = false;
  const target = dmlTarget(s);
  if (target) {
    const { triggers, rules } = await triggersAndRules(client, target);
    if (rules.length) {
      notes.push(`rules would rewrite the statement (${rules.join(', ')}); their effect is not previewed`);
      countUnknown = true;
    }
    const changing = triggers.filter((t) => t.changesRows).map((t) => t.name);
    const others = triggers.filter((t) => !t.changesRows).map((t) => t.name);
    if (changing.length) {
      notes.push(`BEFORE/INSTEAD OF row triggers would fire (${changing.join(', ')}) and may change or skip rows; the count and new values are not shown`);
      countUnknown = true;
    }
    if (others.length) notes.push(`triggers would fire (${others.join(', ')}); their effects are not previewed`);
  }
  const returning = returningOf(s.node);
  if (returning && [...walk(returning)].some(([t]) => t === 'FuncCall')) {
    notes.push('RETURNING calls functions, which are not evaluated in a select preview');
  }
  if (s.nodeType === 'InsertStmt' && s.node.onConflictClause) {
    notes.push('ON CONFLICT: which rows conflict is decided at insert time; the rows shown are the candidates');
    countUnknown = true;
  }
  return { note: notes.length ? notes.join('; ') : null, countUnknown };
}

async function previewInsert(client: pg.ClientBase, s: ParsedStatement, params: unknown[], t: PostgresTargetSettings): Promise<SqlStatementPreview> {
  const out: SqlStatementPreview = { index: s.index, type: statementType(s), rows: null };
  const rw = await rewriteDml(s, await columnTypes(client, dmlTarget(s) ?? ''));
  if (!rw) {
    const values = (s.node.selectStmt as { SelectStmt?: { valuesLists?: unknown[] } } | undefined)?.SelectStmt?.valuesLists;
    if (values && !s.node.onConflictClause) out.rows = values.length;
    out.note = notRewritable(s) ?? 'not rewritten';
    return out;
  }
  const r = await queryArrays(client, `SELECT count(*) OVER () AS countersign_rows, q.* FROM (\n${rw.sql}\n) AS q LIMIT ${t.preview.sampleRows}`, params);
  const fields = r.fields.slice(1);
  const rv = rangeVarName(s.node.relation);
  const target = dmlTarget(s);
  let columns = rw.insertColumns;
  let schema = rv?.schema ?? null;
  if (columns.length === 0 && target) {
    const c = await client.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [target],
    );
    columns = c.rows.map((x) => String(x.name)).slice(0, fields.length);
  }
  if (target && schema === null) {
    const n = await client.query<{ nspname: string }>(`SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`, [target]);
    schema = n.rows[0] ? String(n.rows[0].nspname) : null;
  }
  // Masked when the target column is, or when the value comes from a masked source.
  const source = { ...s, nodeType: 'SelectStmt', node: (s.node.selectStmt as { SelectStmt: Record<string, unknown> }).SelectStmt };
  const fromSource = await maskForResult(client, t.mask, source, fields);
  const mask = fields.map((_, i) => (fromSource[i] ?? true) || (rv !== null && columnIsMasked(t.mask, { schema: schema ?? '', table: rv.name, column: columns[i] ?? '' })));
  out.rows = r.rows.length ? Number(r.rows[0]?.[0]) : 0;
  out.columns = columns;
  out.after = maskRows(
    r.rows.map((row) => row.slice(1)),
    mask,
  );
  return out;
}

/** The `select` preview body: nothing is written; DML is rewritten into the SELECT that finds its rows. */
export function selectBody(t: PostgresTargetSettings): PreviewBody {
  return async (client, statements, params) => {
    const skip = noPreviewReason(statements) ?? (await catalogRisk(client, statements, { writes: false })) ?? (await reachRisk(client, statements, { writes: false }));
    if (skip) return { skipped: skip };
    const out: SqlStatementPreview[] = [];
    let earlierWrites = false;
    for (const s of statements) {
      const own = params.slice(0, s.maxParam);
      let entry: SqlStatementPreview;
      if (isRead(s)) entry = await sampleRead(client, s, own, t);
      else if (s.nodeType === 'InsertStmt') entry = await previewInsert(client, s, own, t);
      else if (s.nodeType === 'UpdateStmt' || s.nodeType === 'DeleteStmt') {
        const rw = await rewriteDml(s, await columnTypes(client, dmlTarget(s) ?? ''));
        entry = { index: s.index, type: statementType(s), rows: null };
        if (!rw) entry.note = notRewritable(s) ?? 'not rewritten';
        else {
          const sample = await sampleRewritten(client, s, rw, own, t);
          Object.assign(entry, { rows: sample.count, columns: sample.columns, before: sample.before });
          if (s.nodeType === 'UpdateStmt') entry.after = sample.after;
        }
      } else {
        entry = { index: s.index, type: statementType(s), rows: null };
        const derived = await deriveCatalogChanges(client, s);
        if (derived) {
          if (derived.schemaChanges.length) entry.schemaChanges = derived.schemaChanges;
          if (derived.privilegeChanges.length) entry.privilegeChanges = derived.privilegeChanges;
          entry.note = derived.note;
        } else if (s.nodeType === 'TruncateStmt') {
          Object.assign(entry, { rows: await truncateCount(client, s), note: 'rows the TRUNCATE removes (tables truncated by CASCADE not counted)' });
        } else entry.note = 'not run by a select preview: its changes are shown by a rollback preview';
      }
      if (isDml(s)) {
        const { note, countUnknown } = await notFaithful(client, s);
        if (countUnknown) {
          entry.rows = null;
          delete entry.after;
        }
        if (note) entry.note = entry.note ? `${entry.note}; ${note}` : note;
      }
      if (earlierWrites && (isDml(s) || isRead(s))) {
        const n = 'previewed against the data as it is now, not after the earlier statements of the input';
        entry.note = entry.note ? `${entry.note}; ${n}` : n;
      }
      if (!isRead(s)) earlierWrites = true;
      out.push(entry);
    }
    return out;
  };
}
