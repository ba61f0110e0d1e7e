import type { SqlPrivilegeChange, SqlSchemaChange } from '../../domain/sql-preview.js';
import type { Queryable } from './postgres-catalog.js';
import { asText } from './postgres-catalog.js';
import type { ParsedStatement, PgNode } from './pg-parse.js';
import { deparse, rangeVarName } from './pg-parse.js';
import { quoteIdent } from './postgres-risk.js';

/**
 * Schema and privilege changes of a DDL or privilege statement, derived without running
 * it (the `select` preview): from the statement's parse tree and the current catalog.
 * Covers the common forms (ALTER TABLE column and constraint commands, CREATE TABLE,
 * CREATE INDEX, DROP, GRANT/REVOKE on tables, role membership, CREATE/ALTER/DROP ROLE);
 * anything else is said to be not previewed. A `rollback` preview reads the real
 * difference from the catalog instead.
 */
export interface DerivedChanges {
  schemaChanges: SqlSchemaChange[];
  privilegeChanges: SqlPrivilegeChange[];
  note: string;
}

const DERIVED = 'derived from the statement and the current catalog, without running it';
const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
const ROLE_ATTRIBUTES: Record<string, string> = {
  canlogin: 'LOGIN',
  createrole: 'CREATEROLE',
  createdb: 'CREATEDB',
  superuser: 'SUPERUSER',
  isreplication: 'REPLICATION',
  bypassrls: 'BYPASSRLS',
  inherit: 'INHERIT',
};

/** `public.users` as the catalog names it (quote_ident), or the name as written when it does not exist yet. */
async function qualified(client: Queryable, rv: unknown): Promise<string> {
  const r = rangeVarName(rv);
  if (!r) return '?';
  const written = r.schema ? `${quoteIdent(r.schema)}.${quoteIdent(r.name)}` : quoteIdent(r.name);
  const found = await client.query(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS k FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    [written],
  );
  if (found.rows[0]) return asText(found.rows[0].k);
  const schema = r.schema ?? asText((await client.query('SELECT current_schema() AS s')).rows[0]?.s);
  return `${schema}.${r.name}`;
}

async function typeText(typeName: unknown): Promise<string> {
  try {
    const sql = await deparse({ SelectStmt: { targetList: [{ ResTarget: { val: { TypeCast: { arg: { A_Const: { isnull: true } }, typeName } } } }], limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } });
    const m = /^SELECT\s+(?:CAST\(NULL AS ([\s\S]*)\)|NULL::([\s\S]*))$/i.exec(sql.trim());
    return (m?.[1] ?? m?.[2] ?? '?').trim();
  } catch {
    return '?';
  }
}

async function columnNow(client: Queryable, relation: string, column: string): Promise<string> {
  const r = await client.query(
    `SELECT format_type(a.atttypid, a.atttypmod) AS t FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped`,
    [relation, column],
  );
  return r.rows[0] ? asText(r.rows[0].t) : '?';
}

async function alterTable(client: Queryable, s: ParsedStatement, out: SqlSchemaChange[]): Promise<boolean> {
  const rel = await qualified(client, s.node.relation);
  let complete = true;
  for (const c of (s.node.cmds as Array<{ AlterTableCmd?: { subtype?: string; name?: string; def?: PgNode } }> | undefined) ?? []) {
    const cmd = c.AlterTableCmd ?? {};
    const col = (name: string | undefined) => `${rel}.${quoteIdent(name ?? '?').replace(/^"([a-z_][a-z0-9_$]*)"$/, '$1')}`;
    const def = cmd.def as { ColumnDef?: { colname?: string; typeName?: unknown; constraints?: Array<{ Constraint?: { contype?: string } }> }; Constraint?: { conname?: string } } | undefined;
    switch (cmd.subtype ?? '') {
      case 'AT_AddColumn': {
        const cd = def?.ColumnDef ?? {};
        const notNull = (cd.constraints ?? []).some((x) => x.Constraint?.contype === 'CONSTR_NOTNULL' || x.Constraint?.contype === 'CONSTR_PRIMARY');
        out.push({ object: col(cd.colname), change: 'added', detail: `column ${await typeText(cd.typeName)}${notNull ? ' NOT NULL' : ''}` });
        break;
      }
      case 'AT_DropColumn':
        out.push({ object: col(cmd.name), change: 'dropped', detail: `column ${await columnNow(client, rel, cmd.name ?? '')}` });
        break;
      case 'AT_AlterColumnType':
        out.push({ object: col(cmd.name), change: 'changed', detail: `column type ${await columnNow(client, rel, cmd.name ?? '')} -> ${await typeText(def?.ColumnDef?.typeName)}` });
        break;
      case 'AT_SetNotNull':
      case 'AT_DropNotNull':
        out.push({ object: col(cmd.name), change: 'changed', detail: `column NOT NULL ${cmd.subtype === 'AT_SetNotNull' ? 'added' : 'dropped'}` });
        break;
      case 'AT_ColumnDefault':
        out.push({ object: col(cmd.name), change: 'changed', detail: cmd.def ? 'column default set' : 'column default dropped' });
        break;
      case 'AT_AddConstraint':
        out.push({ object: `${rel}.${def?.Constraint?.conname ?? '(unnamed constraint)'}`, change: 'added', detail: 'constraint' });
        break;
      case 'AT_DropConstraint':
        out.push({ object: `${rel}.${cmd.name ?? '?'}`, change: 'dropped', detail: 'constraint' });
        break;
      default:
        complete = false;
    }
  }
  return complete;
}

async function grant(client: Queryable, s: ParsedStatement, out: SqlPrivilegeChange[]): Promise<boolean> {
  const n = s.node;
  if (n.objtype !== 'OBJECT_TABLE' || n.targtype !== 'ACL_TARGET_OBJECT') return false;
  const grantees = ((n.grantees as Array<{ RoleSpec?: { roletype?: string; rolename?: string } }> | undefined) ?? []).map((g) =>
    g.RoleSpec?.roletype === 'ROLESPEC_PUBLIC' ? 'PUBLIC' : (g.RoleSpec?.rolename ?? '?'),
  );
  const privs = ((n.privileges as Array<{ AccessPriv?: { priv_name?: string; cols?: Array<{ String?: { sval?: string } }> } }> | undefined) ?? []).map((p) => ({
    name: (p.AccessPriv?.priv_name ?? '').toUpperCase(),
    cols: (p.AccessPriv?.cols ?? []).map((c) => c.String?.sval ?? '?'),
  }));
  const expanded = privs.length ? privs : TABLE_PRIVILEGES.map((name) => ({ name, cols: [] as string[] }));
  for (const o of (n.objects as Array<{ RangeVar?: unknown }> | undefined) ?? []) {
    const rel = await qualified(client, o.RangeVar);
    for (const grantee of grantees) {
      for (const p of expanded) {
        for (const object of p.cols.length ? p.cols.map((c) => `${rel}.${c}`) : [rel]) {
          out.push({ grantee, change: n.is_grant ? 'gains' : 'loses', privilege: p.name, object });
        }
      }
    }
  }
  return true;
}

function roles(s: ParsedStatement, out: SqlPrivilegeChange[]): boolean {
  const n = s.node;
  const name = (r: { RoleSpec?: { rolename?: string; roletype?: string } } | { rolename?: string }) =>
    ('RoleSpec' in r ? r.RoleSpec?.rolename : (r as { rolename?: string }).rolename) ?? '?';
  switch (s.nodeType) {
    case 'GrantRoleStmt':
      for (const role of (n.granted_roles as Array<{ AccessPriv?: { priv_name?: string } }> | undefined) ?? []) {
        for (const g of (n.grantee_roles as Array<{ RoleSpec?: { rolename?: string } }> | undefined) ?? []) {
          const r = role.AccessPriv?.priv_name ?? '?';
          out.push({ grantee: name(g), change: n.is_grant ? 'gains' : 'loses', privilege: `role ${r}`, object: r });
        }
      }
      return true;
    case 'CreateRoleStmt':
    case 'AlterRoleStmt': {
      const role = typeof n.role === 'string' ? n.role : name((n.role ?? {}));
      if (s.nodeType === 'CreateRoleStmt') out.push({ grantee: role, change: 'gains', privilege: 'role created', object: role });
      for (const o of (n.options as Array<{ DefElem?: { defname?: string; arg?: { Boolean?: { boolval?: boolean } } } }> | undefined) ?? []) {
        const attr = ROLE_ATTRIBUTES[o.DefElem?.defname ?? ''];
        if (attr) out.push({ grantee: role, change: o.DefElem?.arg?.Boolean?.boolval ? 'gains' : 'loses', privilege: attr, object: role });
      }
      return true;
    }
    case 'DropRoleStmt':
      for (const r of (n.roles as Array<{ RoleSpec?: { rolename?: string } }> | undefined) ?? []) {
        out.push({ grantee: name(r), change: 'loses', privilege: 'role dropped', object: name(r) });
      }
      return true;
    default:
      return false;
  }
}

export async function deriveCatalogChanges(client: Queryable, s: ParsedStatement): Promise<DerivedChanges | null> {
  const schemaChanges: SqlSchemaChange[] = [];
  const privilegeChanges: SqlPrivilegeChange[] = [];
  let complete = true;
  switch (s.nodeType) {
    case 'AlterTableStmt':
      complete = await alterTable(client, s, schemaChanges);
      break;
    case 'CreateStmt': {
      const rel = await qualified(client, s.node.relation);
      schemaChanges.push({ object: rel, change: 'added', detail: 'table' });
      for (const e of (s.node.tableElts as Array<{ ColumnDef?: { colname?: string; typeName?: unknown } }> | undefined) ?? []) {
        if (e.ColumnDef) schemaChanges.push({ object: `${rel}.${e.ColumnDef.colname ?? '?'}`, change: 'added', detail: `column ${await typeText(e.ColumnDef.typeName)}` });
      }
      break;
    }
    case 'IndexStmt': {
      const rel = await qualified(client, s.node.relation);
      const schema = rel.split('.')[0] ?? 'public';
      schemaChanges.push({ object: `${schema}.${typeof s.node.idxname === 'string' ? s.node.idxname : '(unnamed index)'}`, change: 'added', detail: `index ${s.text}` });
      break;
    }
    case 'DropStmt': {
      const kind = typeof s.node.removeType === 'string' ? s.node.removeType.replace(/^OBJECT_/, '').toLowerCase() : 'object';
      for (const o of (s.node.objects as Array<{ List?: { items?: Array<{ String?: { sval?: string } }> } }> | undefined) ?? []) {
        const parts = (o.List?.items ?? []).map((i) => i.String?.sval ?? '?');
        const rv = parts.length === 2 ? { schemaname: parts[0], relname: parts[1] } : { relname: parts[0] };
        schemaChanges.push({ object: await qualified(client, rv), change: 'dropped', detail: kind });
      }
      if (s.node.behavior === 'DROP_CASCADE') complete = false;
      break;
    }
    case 'GrantStmt':
      complete = await grant(client, s, privilegeChanges);
      break;
    default:
      if (!roles(s, privilegeChanges)) return null;
  }
  const note = complete ? DERIVED : `${DERIVED}; partial (${s.node.behavior === 'DROP_CASCADE' ? 'objects dropped by CASCADE are not listed' : 'some commands are not described'}): a rollback preview shows the full difference`;
  return { schemaChanges, privilegeChanges, note };
}
