import type { SqlNode } from './sql-tree.js';
import { fieldsOf, listOf, str, stringsOf } from './sql-tree.js';

/**
 * The closed list of statement types policy sees (`sql.types`, `sql.statements[].type`).
 * Every DROP is `drop_*`, every CREATE `create_*`, every ALTER `alter_*` (with `_other`
 * for objects not named here), so that a rule on a prefix (`t.startsWith("drop_")`)
 * holds for objects added to PostgreSQL later. Anything else unlisted is `other`.
 */
export const SQL_STATEMENT_TYPES = [
  'select', 'select_into', 'insert', 'update', 'delete', 'merge', 'copy_to', 'copy_from', 'truncate',
  'create_table', 'create_table_as', 'create_view', 'create_materialized_view', 'create_index', 'create_sequence', 'create_schema',
  'create_function', 'create_procedure', 'create_trigger', 'create_extension', 'create_type', 'create_domain', 'create_policy',
  'create_rule', 'create_database', 'create_role', 'create_other',
  'alter_table', 'alter_index', 'alter_view', 'alter_materialized_view', 'alter_sequence', 'alter_schema', 'alter_function',
  'alter_type', 'alter_domain', 'alter_extension', 'alter_policy', 'alter_database', 'alter_role', 'alter_default_privileges', 'alter_system',
  'alter_owner', 'alter_other',
  'drop_table', 'drop_view', 'drop_materialized_view', 'drop_index', 'drop_sequence', 'drop_schema', 'drop_function', 'drop_procedure',
  'drop_trigger', 'drop_extension', 'drop_type', 'drop_domain', 'drop_policy', 'drop_rule', 'drop_database', 'drop_role', 'drop_owned', 'drop_other',
  'refresh_materialized_view', 'comment', 'grant', 'revoke', 'grant_role', 'revoke_role', 'reassign_owned',
  'do', 'call', 'explain', 'set', 'reset', 'show', 'transaction', 'lock', 'vacuum', 'analyze', 'cluster', 'reindex', 'checkpoint',
  'discard', 'listen', 'notify', 'unlisten', 'prepare', 'execute', 'deallocate', 'declare', 'fetch', 'close', 'load', 'other',
] as const;
export type SqlStatementType = (typeof SQL_STATEMENT_TYPES)[number];

/** Object types (parse tree `OBJECT_*`) to the suffix of create_/alter_/drop_ types. */
const OBJECT_NAMES: Record<string, string> = {
  OBJECT_TABLE: 'table',
  OBJECT_FOREIGN_TABLE: 'table',
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'materialized_view',
  OBJECT_INDEX: 'index',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_SCHEMA: 'schema',
  OBJECT_FUNCTION: 'function',
  OBJECT_ROUTINE: 'function',
  OBJECT_AGGREGATE: 'function',
  OBJECT_PROCEDURE: 'procedure',
  OBJECT_TRIGGER: 'trigger',
  OBJECT_EXTENSION: 'extension',
  OBJECT_TYPE: 'type',
  OBJECT_DOMAIN: 'domain',
  OBJECT_POLICY: 'policy',
  OBJECT_RULE: 'rule',
  OBJECT_DATABASE: 'database',
  OBJECT_ROLE: 'role',
  // A column or constraint changes its table.
  OBJECT_COLUMN: 'table',
  OBJECT_TABCONSTRAINT: 'table',
};

function typed(prefix: 'create' | 'alter' | 'drop', objectType: unknown): SqlStatementType {
  const name = `${prefix}_${OBJECT_NAMES[str(objectType) ?? ''] ?? 'other'}`;
  return (SQL_STATEMENT_TYPES as readonly string[]).includes(name) ? (name as SqlStatementType) : `${prefix}_other`;
}

const SIMPLE: Record<string, SqlStatementType> = {
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
  TruncateStmt: 'truncate',
  ViewStmt: 'create_view',
  IndexStmt: 'create_index',
  CreateSeqStmt: 'create_sequence',
  AlterSeqStmt: 'alter_sequence',
  CreateSchemaStmt: 'create_schema',
  CreateTrigStmt: 'create_trigger',
  CreateExtensionStmt: 'create_extension',
  AlterExtensionStmt: 'alter_extension',
  AlterExtensionContentsStmt: 'alter_extension',
  CompositeTypeStmt: 'create_type',
  CreateEnumStmt: 'create_type',
  CreateRangeStmt: 'create_type',
  AlterEnumStmt: 'alter_type',
  AlterTypeStmt: 'alter_type',
  CreateDomainStmt: 'create_domain',
  AlterDomainStmt: 'alter_domain',
  CreatePolicyStmt: 'create_policy',
  AlterPolicyStmt: 'alter_policy',
  RuleStmt: 'create_rule',
  CreatedbStmt: 'create_database',
  AlterDatabaseStmt: 'alter_database',
  AlterDatabaseSetStmt: 'alter_database',
  AlterDatabaseRefreshCollStmt: 'alter_database',
  DropdbStmt: 'drop_database',
  CreateRoleStmt: 'create_role',
  AlterRoleStmt: 'alter_role',
  AlterRoleSetStmt: 'alter_role',
  DropRoleStmt: 'drop_role',
  DropOwnedStmt: 'drop_owned',
  ReassignOwnedStmt: 'reassign_owned',
  AlterDefaultPrivilegesStmt: 'alter_default_privileges',
  AlterSystemStmt: 'alter_system',
  AlterFunctionStmt: 'alter_function',
  AlterOwnerStmt: 'alter_owner',
  CreateForeignTableStmt: 'create_table',
  RefreshMatViewStmt: 'refresh_materialized_view',
  CommentStmt: 'comment',
  DoStmt: 'do',
  CallStmt: 'call',
  ExplainStmt: 'explain',
  VariableShowStmt: 'show',
  TransactionStmt: 'transaction',
  LockStmt: 'lock',
  ClusterStmt: 'cluster',
  ReindexStmt: 'reindex',
  CheckPointStmt: 'checkpoint',
  DiscardStmt: 'discard',
  ListenStmt: 'listen',
  NotifyStmt: 'notify',
  UnlistenStmt: 'unlisten',
  PrepareStmt: 'prepare',
  ExecuteStmt: 'execute',
  DeallocateStmt: 'deallocate',
  DeclareCursorStmt: 'declare',
  FetchStmt: 'fetch',
  ClosePortalStmt: 'close',
  LoadStmt: 'load',
};

/** The type fact of one statement node. */
export function statementType(type: string, f: SqlNode): SqlStatementType {
  const simple = SIMPLE[type];
  if (simple) return simple;
  switch (type) {
    case 'SelectStmt':
      return f.intoClause ? 'select_into' : 'select';
    case 'CopyStmt':
      return f.is_from === true ? 'copy_from' : 'copy_to';
    case 'CreateStmt':
      return 'create_table';
    case 'CreateTableAsStmt':
      return str(f.objtype) === 'OBJECT_MATVIEW' ? 'create_materialized_view' : 'create_table_as';
    case 'CreateFunctionStmt':
      return f.is_procedure === true ? 'create_procedure' : 'create_function';
    case 'DefineStmt':
      return typed('create', f.kind);
    case 'AlterTableStmt':
      return typed('alter', f.objtype);
    case 'RenameStmt':
      return typed('alter', f.renameType);
    case 'AlterObjectSchemaStmt':
      return typed('alter', f.objectType);
    case 'DropStmt':
      return typed('drop', f.removeType);
    case 'GrantStmt':
      return f.is_grant === true ? 'grant' : 'revoke';
    case 'GrantRoleStmt':
      return f.is_grant === true ? 'grant_role' : 'revoke_role';
    case 'VariableSetStmt':
      return str(f.kind) === 'VAR_RESET' || str(f.kind) === 'VAR_RESET_ALL' ? 'reset' : 'set';
    case 'VacuumStmt':
      return f.is_vacuumcmd === true ? 'vacuum' : 'analyze';
    default:
      // Statements PostgreSQL adds later keep their family, so that prefix rules still hold.
      if (/^Create/.test(type)) return 'create_other';
      if (/^Alter/.test(type)) return 'alter_other';
      if (/^Drop/.test(type)) return 'drop_other';
      return 'other';
  }
}

/** Schema changes: every create_/alter_/drop_ of a schema object, SELECT INTO, COMMENT (roles, settings and privileges are not schema). */
export function isDdl(t: SqlStatementType): boolean {
  if (PRIVILEGE_TYPES.has(t) || t === 'alter_system' || t === 'alter_owner') return false;
  return /^(create|alter|drop)_/.test(t) || t === 'select_into' || t === 'comment';
}

const PRIVILEGE_TYPES = new Set<SqlStatementType>([
  'grant', 'revoke', 'grant_role', 'revoke_role', 'create_role', 'alter_role', 'drop_role', 'alter_default_privileges', 'drop_owned', 'reassign_owned',
]);

/**
 * Changes to who may do what: GRANT/REVOKE (privileges and role memberships), CREATE/
 * ALTER/DROP ROLE, ALTER DEFAULT PRIVILEGES, DROP/REASSIGN OWNED, a change of owner, and
 * SET ROLE / SET SESSION AUTHORIZATION (acting as another role).
 */
export function isPrivilege(t: SqlStatementType, type: string, f: SqlNode): boolean {
  if (PRIVILEGE_TYPES.has(t) || t === 'alter_owner') return true;
  if (type === 'VariableSetStmt') return ['role', 'session_authorization'].includes(str(f.name)?.toLowerCase() ?? '');
  if (type === 'AlterTableStmt') return listOf(f.cmds).some((c) => str(fieldsOf(c, 'AlterTableCmd')?.subtype) === 'AT_ChangeOwner');
  return false;
}

/** Names of a DROP's objects when they are relations (tables, views, indexes, sequences). */
export function droppedRelations(f: SqlNode): string[][] {
  const relationTypes = ['OBJECT_TABLE', 'OBJECT_FOREIGN_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_INDEX', 'OBJECT_SEQUENCE'];
  if (!relationTypes.includes(str(f.removeType) ?? '')) return [];
  return listOf(f.objects).map((o) => stringsOf(o));
}
