/**
 * What a dry run of a `sql` action found, shown to reviewers and recorded with the
 * action. The summary is what execution is compared against (drift): an approval of
 * "3 rows" must never run 30,000.
 */

export const SQL_PREVIEW_MODES = ['rollback', 'select'] as const;
export type SqlPreviewMode = (typeof SQL_PREVIEW_MODES)[number];

export const SQL_PREVIEW_STATUSES = ['ok', 'skipped', 'failed', 'timeout'] as const;
export type SqlPreviewStatus = (typeof SQL_PREVIEW_STATUSES)[number];

export interface SqlSchemaChange {
  /** Schema-qualified object: `public.users`, `public.users.email`, `public.users_email_idx`. */
  object: string;
  change: 'added' | 'dropped' | 'changed';
  /** What changed, for a human: `column email text NOT NULL`, `type int4 -> int8`. */
  detail: string;
}

export interface SqlPrivilegeChange {
  grantee: string;
  change: 'gains' | 'loses';
  /** `SELECT`, `UPDATE`, `role admin`, `LOGIN`... */
  privilege: string;
  /** The object the privilege is on (`public.users`), or the role for memberships. */
  object: string;
}

export interface SqlStatementPreview {
  /** 0-based position of the statement in the input. */
  index: number;
  /** The statement's type fact (`update`, `create_table`...). */
  type: string;
  /** Rows affected (DML) or returned (SELECT); null when it does not apply or is unknown. */
  rows: number | null;
  /** True when `rows` is the planner's estimate (EXPLAIN), not a count. */
  estimated?: boolean;
  /** Column names of the sample rows. */
  columns?: string[];
  /** A sample of the rows as they are now (UPDATE, DELETE), masked columns masked. */
  before?: unknown[][];
  /** A sample of the rows as they would be (UPDATE, INSERT), masked columns masked. */
  after?: unknown[][];
  schemaChanges?: SqlSchemaChange[];
  privilegeChanges?: SqlPrivilegeChange[];
  /** What the preview could not show faithfully for this statement, and why. */
  note?: string;
  /** The sample rows exist but are not shown to this viewer (the requester and the action's parties see figures only). */
  samplesHidden?: boolean;
}

export interface SqlPreviewSummary {
  /** Rows affected per statement, in input order (null where not counted). */
  rows: Array<number | null>;
  /** sha256 hex of the canonical JSON of every schema change, when there are any. */
  schemaDiffHash?: string;
  /**
   * Rollback previews: every row the input changed, per table (`public.orders`), from
   * PostgreSQL's own per-transaction counters, so that writes drift is bound to include
   * those no statement count shows (writable CTEs, functions, triggers, cascades).
   */
  changes?: Record<string, SqlTableChanges>;
}

/** Rows inserted, updated and deleted in one table by the whole input. */
export interface SqlTableChanges {
  inserted: number;
  updated: number;
  deleted: number;
}

export interface SqlPreview {
  mode: SqlPreviewMode;
  status: SqlPreviewStatus;
  /** Why the preview was skipped or failed (`CREATE INDEX CONCURRENTLY cannot run in a transaction`...). */
  reason?: string;
  statements: SqlStatementPreview[];
  summary: SqlPreviewSummary;
  tookMs: number;
}

/**
 * How far execution may stray from the approved preview's row counts before it is
 * rolled back as drift (policy: `review: { drift: { rows: "10%" } }` or `{ rows: 5 }`).
 * Without one, any difference is drift.
 */
export type DriftTolerance = { kind: 'exact' } | { kind: 'percent'; value: number } | { kind: 'absolute'; value: number };
