import type { DriftVerdict } from '../../domain/sql-drift.js';
import { checkDrift } from '../../domain/sql-drift.js';
import type { DriftTolerance, SqlPreview, SqlPrivilegeChange, SqlSchemaChange } from '../../domain/sql-preview.js';
import { diffPrivileges, diffSchema, schemaDiffHash } from '../../domain/sql-schema-diff.js';
import type { ParsedStatement } from './pg-parse.js';
import type { Queryable } from './postgres-catalog.js';
import { snapshotCatalog } from './postgres-catalog.js';
import { changesSince, tableCounters } from './postgres-changes.js';
import { changesCatalog } from './sql-statement-kind.js';

const ROLE_STATEMENTS = new Set(['GrantRoleStmt', 'CreateRoleStmt', 'AlterRoleStmt', 'DropRoleStmt', 'ReassignOwnedStmt', 'DropOwnedStmt', 'AlterRoleSetStmt']);

/** What execution did besides each statement's row count, read as the approved preview read it. */
export interface DriftWatch {
  /** After statements ran (one, or a group sent as one query): the catalog is read again when they may have changed it. */
  after(ran: readonly ParsedStatement[]): Promise<void>;
  /** checkDrift on the rows each statement affected (null where it is not DML), the rows changed per table and the schema hash. */
  verdict(executedRows: ReadonlyArray<number | null>, tolerance: DriftTolerance | undefined): Promise<DriftVerdict>;
}

/**
 * Starts watching, on the connection that runs the statements and inside their
 * transaction (after BEGIN), what the approved preview recorded: the rows changed per
 * table (when it counted them) and the schema and privilege changes (a rollback preview
 * of statements that change the catalog). Shared by the `sql` executor and the wire
 * gateway, so that drift means the same on both ways in.
 */
export async function watchDrift(client: Queryable, preview: SqlPreview | undefined, statements: readonly ParsedStatement[]): Promise<DriftWatch> {
  // Every row changed, per table, when the approved preview recorded the same figures.
  const counters = preview?.status === 'ok' && preview.summary.changes ? await tableCounters(client) : null;
  // The schema and privilege changes, read as the rollback preview read them, to bind DDL too.
  const watchCatalog = preview?.status === 'ok' && preview.mode === 'rollback' && statements.some(changesCatalog);
  // Roles are cluster-wide and this transaction sees other sessions' commits: without a
  // role statement in the input, role changes are not this input's and are left out.
  const touchesRoles = statements.some((s) => ROLE_STATEMENTS.has(s.nodeType));
  const read = async () => {
    const snap = await snapshotCatalog(client);
    return touchesRoles ? snap : { ...snap, roles: {}, memberships: [] };
  };
  let snapshot = watchCatalog ? await read() : null;
  const schemaChanges: SqlSchemaChange[] = [];
  const privilegeChanges: SqlPrivilegeChange[] = [];
  return {
    async after(ran) {
      if (!snapshot || !ran.some(changesCatalog)) return;
      const next = await read();
      schemaChanges.push(...diffSchema(snapshot, next));
      privilegeChanges.push(...diffPrivileges(snapshot, next));
      snapshot = next;
    },
    async verdict(executedRows, tolerance) {
      const changes = counters ? await changesSince(client, counters) : undefined;
      return checkDrift(preview, executedRows, tolerance, schemaDiffHash(schemaChanges, privilegeChanges), changes);
    },
  };
}
