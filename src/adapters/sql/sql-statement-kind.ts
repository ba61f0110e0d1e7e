import type { ParsedStatement } from './pg-parse.js';

/**
 * A statement's type as the previews label it (`update`, `create_table`...). The policy's
 * own `sql.types` fact comes from the facts module; this is only what a preview shows
 * beside each statement.
 */
export function statementType(s: ParsedStatement): string {
  const n = s.node;
  switch (s.nodeType) {
    case 'SelectStmt':
      return n.intoClause ? 'create_table_as' : 'select';
    case 'InsertStmt':
      return 'insert';
    case 'UpdateStmt':
      return 'update';
    case 'DeleteStmt':
      return 'delete';
    case 'MergeStmt':
      return 'merge';
    case 'TruncateStmt':
      return 'truncate';
    case 'CreateStmt':
      return 'create_table';
    case 'CreateTableAsStmt':
      return 'create_table_as';
    case 'AlterTableStmt':
      return 'alter_table';
    case 'IndexStmt':
      return 'create_index';
    case 'DropStmt':
      return `drop_${(typeof n.removeType === 'string' ? n.removeType : 'OBJECT_OTHER').replace(/^OBJECT_/, '').toLowerCase()}`;
    case 'GrantStmt':
      return n.is_grant ? 'grant' : 'revoke';
    case 'GrantRoleStmt':
      return n.is_grant ? 'grant_role' : 'revoke_role';
    case 'CreateRoleStmt':
      return 'create_role';
    case 'AlterRoleStmt':
      return 'alter_role';
    case 'DropRoleStmt':
      return 'drop_role';
    default:
      return 'other';
  }
}

/** DML whose rows affected are counted and compared for drift. */
export const isDml = (s: ParsedStatement) => ['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'].includes(s.nodeType);

/** A read that returns rows (not SELECT ... INTO, which creates a table). */
export const isRead = (s: ParsedStatement) => s.nodeType === 'SelectStmt' && !s.node.intoClause;

/** Whether the statement may change the schema, privileges or roles (a catalog snapshot is taken around it). */
export const changesCatalog = (s: ParsedStatement) => !isDml(s) && !isRead(s) && !['VariableSetStmt', 'VariableShowStmt', 'ExplainStmt'].includes(s.nodeType);

/** Data-modifying CTEs in the statement's WITH clause (`WITH d AS (DELETE ...) ...`). */
export function hasWritableCte(s: ParsedStatement): boolean {
  const ctes = ((s.node.withClause as { ctes?: unknown[] } | undefined)?.ctes ?? []) as Array<{ CommonTableExpr?: { ctequery?: Record<string, unknown> } }>;
  return ctes.some((c) => {
    const q = c.CommonTableExpr?.ctequery ?? {};
    return 'InsertStmt' in q || 'UpdateStmt' in q || 'DeleteStmt' in q || 'MergeStmt' in q;
  });
}

/** Statements that leave state on the session (settings, prepared statements, temp objects): the connection is not reused after them. */
export function leavesSessionState(s: ParsedStatement): boolean {
  if (['VariableSetStmt', 'PrepareStmt', 'DeclareCursorStmt', 'ListenStmt', 'DiscardStmt', 'LoadStmt'].includes(s.nodeType)) return true;
  const rel = (s.node.relation ?? (s.node.into as { rel?: unknown } | undefined)?.rel) as { relpersistence?: string } | undefined;
  return rel?.relpersistence === 't';
}
