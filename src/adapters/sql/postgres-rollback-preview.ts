import type pg from 'pg';
import { maskRows } from '../../domain/sql-mask.js';
import type { SqlStatementPreview } from '../../domain/sql-preview.js';
import { diffPrivileges, diffSchema } from '../../domain/sql-schema-diff.js';
import type { ParsedStatement, PgNode } from './pg-parse.js';
import { deparse, parseStatements, returningOf } from './pg-parse.js';
import { snapshotCatalog } from './postgres-catalog.js';
import { maskForResult } from './postgres-mask.js';
import { reachRisk } from './postgres-reach.js';
import { catalogRisk, columnTypes, dmlTarget, primaryKey, quoteIdent } from './postgres-risk.js';
import type { PostgresTargetSettings } from './postgres-settings.js';
import { queryArrays } from './postgres-types.js';
import type { PreviewBody } from './postgres-preview-frame.js';
import { assignedMask, rowKey, sampleRead, sampleRewritten, truncateCount } from './postgres-preview-samples.js';
import { noPreviewReason } from './sql-no-preview.js';
import { rewriteDml } from './sql-rewrite.js';
import { changesCatalog, hasWritableCte, isRead, statementType } from './sql-statement-kind.js';

const CTE = 'countersign_preview';

/**
 * The statement wrapped so that it runs exactly once and says what it did:
 * `WITH countersign_preview AS (<statement> RETURNING *) SELECT count, sample`. The
 * statement's own WITH clause is hoisted beside it (data-modifying CTEs must stay at
 * the top level); its own RETURNING list, if any, is kept.
 */
async function wrapped(s: ParsedStatement, sampleRows: number, filter = ''): Promise<string> {
  const tail = `SELECT (SELECT count(*) FROM ${CTE}) AS countersign_rows, p.* FROM (SELECT 1) AS countersign_one LEFT JOIN (SELECT true AS countersign_hit, * FROM ${CTE} ${filter} LIMIT ${sampleRows}) AS p ON true`;
  if (!s.node.withClause) {
    return `WITH ${CTE} AS (\n${s.text}\n${returningOf(s.node) ? '' : 'RETURNING *\n'}) ${tail}`;
  }
  const [template] = await parseStatements(`WITH ${CTE} AS (SELECT 1) ${tail}`);
  const withClause = s.node.withClause as { ctes: PgNode[]; recursive?: boolean };
  const own: PgNode = {
    [s.nodeType]: {
      ...s.node,
      withClause: undefined,
      returningClause: s.node.returningClause ?? { exprs: [{ ResTarget: { val: { ColumnRef: { fields: [{ A_Star: {} }] } } } }] },
    },
  };
  const tpl = template!.node;
  tpl.withClause = { ...withClause, ctes: [...withClause.ctes, { CommonTableExpr: { ctename: CTE, ctequery: own } }] };
  return deparse({ SelectStmt: tpl });
}

async function previewDml(client: pg.PoolClient, s: ParsedStatement, params: readonly unknown[], t: PostgresTargetSettings): Promise<SqlStatementPreview> {
  const own = params.slice(0, s.maxParam);
  const type = statementType(s);
  if (s.nodeType === 'MergeStmt' || hasWritableCte(s)) {
    const r = await client.query(s.text, own);
    return { index: s.index, type, rows: r.rowCount ?? null, note: s.nodeType === 'MergeStmt' ? 'MERGE shows no row sample' : 'rows of the statement\'s writable CTEs are not counted or sampled' };
  }
  const out: SqlStatementPreview = { index: s.index, type, rows: null };
  // UPDATE: the matching rows as they are now, before the statement changes them.
  // With a primary key the UPDATE leaves alone, the after sample is the same rows, in the same order.
  let before: Awaited<ReturnType<typeof sampleRewritten>> | null = null;
  let filter = '';
  let pk: string[] = [];
  const values = [...own];
  if (s.nodeType === 'UpdateStmt') {
    const target = dmlTarget(s) ?? '';
    const rw = await rewriteDml(s, await columnTypes(client, target));
    pk = rw && !returningOf(s.node) ? await primaryKey(client, target) : [];
    const pairable = rw !== null && pk.length > 0 && !pk.some((c) => rw.assigned.includes(c));
    if (rw) before = await sampleRewritten(client, s, rw, own, t, pairable ? pk : []);
    if (before && before.keys.length > 0) {
      while (values.length < s.maxParam) values.push(null);
      values.push(before.keys);
      filter = `WHERE concat_ws(chr(31), ${pk.map((c) => `${quoteIdent(c)}::text`).join(', ')}) = ANY($${values.length}::text[])`;
    }
  }
  const r = await queryArrays(client, await wrapped(s, t.preview.sampleRows, filter), values);
  const first = r.rows[0];
  out.rows = first ? Number(first[0]) : 0;
  const fields = r.fields.slice(2);
  const rows = r.rows.filter((row) => row[1] === true).map((row) => row.slice(2));
  let masked = await maskForResult(client, t.mask, s, fields);
  if (before) masked = masked.map((m, i) => m || assignedMask(before, fields[i]?.name ?? ''));
  if (filter && before) {
    const at = pk.map((c) => fields.findIndex((f) => f.name === c));
    const order = new Map(before.keys.map((k, i) => [k, i]));
    rows.sort((a, b) => (order.get(rowKey(at.map((i) => a[i]))) ?? 0) - (order.get(rowKey(at.map((i) => b[i]))) ?? 0));
  }
  const shown = maskRows(rows, masked);
  out.columns = fields.map((f) => f.name);
  if (s.nodeType === 'DeleteStmt') out.before = shown;
  else out.after = shown;
  if (before) {
    out.before = before.before;
    if (before.columns.join('\u0000') !== out.columns.join('\u0000')) out.note = 'the after sample shows the statement\'s RETURNING columns';
    else if (!filter) out.note = 'before and after samples may show different rows: the table has no primary key the statement leaves alone';
  }
  return out;
}

/** The `rollback` preview body: runs every statement for real inside the frame's transaction. */
export function rollbackBody(t: PostgresTargetSettings): PreviewBody {
  return async (client, statements, params) => {
    const skip = noPreviewReason(statements) ?? (await catalogRisk(client, statements)) ?? (await reachRisk(client, statements, { writes: true }));
    if (skip) return { skipped: skip };
    const out: SqlStatementPreview[] = [];
    let snapshot = statements.some(changesCatalog) ? await snapshotCatalog(client) : null;
    for (const s of statements) {
      const own = params.slice(0, s.maxParam);
      if (dmlTarget(s)) {
        out.push(await previewDml(client, s, params, t));
      } else if (isRead(s)) {
        out.push(await sampleRead(client, s, own, t));
      } else {
        const removed = s.nodeType === 'TruncateStmt' ? await truncateCount(client, s) : null;
        const r = await client.query(s.text, own);
        const entry: SqlStatementPreview = { index: s.index, type: statementType(s), rows: r.rowCount ?? null };
        if (snapshot) {
          const next = await snapshotCatalog(client);
          const schemaChanges = diffSchema(snapshot, next);
          const privilegeChanges = diffPrivileges(snapshot, next);
          if (schemaChanges.length) entry.schemaChanges = schemaChanges;
          if (privilegeChanges.length) entry.privilegeChanges = privilegeChanges;
          snapshot = next;
        }
        if (entry.type !== 'create_table_as') entry.rows = null;
        if (removed !== null) Object.assign(entry, { rows: removed, note: 'rows the TRUNCATE removes (tables truncated by CASCADE not counted)' });
        out.push(entry);
      }
    }
    return out;
  };
}
