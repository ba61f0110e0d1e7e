import { driftAllowance } from './drift-tolerance.js';
import type { DriftTolerance, SqlPreview, SqlTableChanges } from './sql-preview.js';

/**
 * Drift: execution compared with the preview the reviewers approved, before COMMIT. A
 * reviewer who approved "3 rows" must never get 30,000.
 *
 * What is compared, by the approved preview's status:
 * - no preview recorded (the action was allowed without review, or the target has no
 *   preview): nothing was approved against a figure, nothing to compare; it runs.
 * - `ok`: each statement's rows affected, where the preview counted them (not null, not
 *   an estimate), must be within the tolerance; the number of statements must match.
 *   A `rollback` preview also read the schema and privilege changes from the catalog:
 *   execution's must hash the same (`executedSchemaHash`), with no tolerance. When it
 *   recorded the rows changed per table (`summary.changes`), execution's (read the same
 *   way before COMMIT) must match each table's inserted, updated and deleted counts
 *   within the same tolerance: rows a writable CTE, a function, a trigger or a cascade
 *   changes are bound too, not only each top-level statement's count.
 * - `skipped`: the statement is one whose preview would have had effects outside the
 *   transaction (CREATE INDEX CONCURRENTLY, VACUUM...); reviewers were shown that there
 *   is no preview and why, and approved it as such; it runs without comparison.
 * - `failed` / `timeout`: reviewers saw no exact figure (at most the planner's estimate),
 *   and the reason may be transient (a lock wait): refused. Fail closed: the action is
 *   submitted again (or the target's preview timeout raised) to get a preview to approve.
 */
export type DriftVerdict =
  | { ok: true; compared: boolean }
  | { ok: false; kind: 'rows'; statement: number; approved: number; actual: number | null; message: string }
  | { ok: false; kind: 'statements'; approved: number; actual: number; message: string }
  | { ok: false; kind: 'changes'; table: string; approved: SqlTableChanges; actual: SqlTableChanges; message: string }
  | { ok: false; kind: 'schema'; approved: string | null; actual: string | null; message: string }
  | { ok: false; kind: 'no-preview'; status: SqlPreview['status']; message: string };

/** Whether `actual` is within the tolerance of `approved`. */
export function withinTolerance(approved: number, actual: number, tolerance: DriftTolerance | undefined): boolean {
  // The same allowance reviewers are shown (10% of 3 rows allows 0: 0.3 rounds down).
  return Math.abs(actual - approved) <= driftAllowance(tolerance ?? { kind: 'exact' }, approved);
}

function describeTolerance(t: DriftTolerance | undefined): string {
  if (!t || t.kind === 'exact') return 'no difference allowed';
  return t.kind === 'absolute' ? `tolerance ${t.value} rows` : `tolerance ${t.value}%`;
}

export function checkDrift(
  preview: SqlPreview | undefined,
  executedRows: ReadonlyArray<number | null>,
  tolerance?: DriftTolerance,
  executedSchemaHash?: string,
  executedChanges?: Readonly<Record<string, SqlTableChanges>>,
): DriftVerdict {
  if (!preview || preview.status === 'skipped') return { ok: true, compared: false };
  if (preview.status !== 'ok') {
    return {
      ok: false,
      kind: 'no-preview',
      status: preview.status,
      message: `the approved preview ${preview.status === 'timeout' ? 'timed out' : 'failed'}: there are no approved figures to compare with, so nothing is committed`,
    };
  }
  const approvedRows = preview.summary.rows;
  if (approvedRows.length !== executedRows.length) {
    return {
      ok: false,
      kind: 'statements',
      approved: approvedRows.length,
      actual: executedRows.length,
      message: `drift: the approved preview has ${approvedRows.length} statement(s), execution ran ${executedRows.length}`,
    };
  }
  for (let i = 0; i < approvedRows.length; i++) {
    const approved = approvedRows[i];
    if (approved === null || approved === undefined) continue;
    if (preview.statements.find((s) => s.index === i)?.estimated) continue;
    const actual = executedRows[i] ?? null;
    if (actual === null || !withinTolerance(approved, actual, tolerance)) {
      return {
        ok: false,
        kind: 'rows',
        statement: i,
        approved,
        actual,
        message: `drift: statement ${i + 1} was approved affecting ${approved} row(s) and would affect ${actual ?? 'an unknown number of'} (${describeTolerance(tolerance)}); rolled back`,
      };
    }
  }
  const approvedChanges = preview.summary.changes;
  if (approvedChanges) {
    const none: SqlTableChanges = { inserted: 0, updated: 0, deleted: 0 };
    for (const table of [...new Set([...Object.keys(approvedChanges), ...Object.keys(executedChanges ?? {})])].sort()) {
      const approved = approvedChanges[table] ?? none;
      const actual = executedChanges?.[table] ?? none;
      const off = (['inserted', 'updated', 'deleted'] as const).find((k) => !withinTolerance(approved[k], actual[k], tolerance));
      if (off) {
        return {
          ok: false,
          kind: 'changes',
          table,
          approved,
          actual,
          message: `drift: ${table} was approved with ${approved[off]} row(s) ${off} and would have ${actual[off]} (${describeTolerance(tolerance)}); rolled back`,
        };
      }
    }
  }
  const approvedHash = preview.summary.schemaDiffHash;
  if (preview.mode === 'rollback' && approvedHash !== executedSchemaHash) {
    return {
      ok: false,
      kind: 'schema',
      approved: approvedHash ?? null,
      actual: executedSchemaHash ?? null,
      message: `drift: the schema and privilege changes differ from the approved preview's (${approvedHash ? approvedHash.slice(0, 12) : 'none'} approved, ${executedSchemaHash ? executedSchemaHash.slice(0, 12) : 'none'} now); rolled back`,
    };
  }
  return { ok: true, compared: true };
}
