import type { CatalogSnapshot } from '../../domain/sql-schema-diff.js';

/** A catalog value as text (names, definitions); '' for null. */
export const asText = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : v === null || v === undefined ? '' : JSON.stringify(v);

/** The one method of a pg client the catalog reader calls. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

// User objects only: the system schemas change under us (temp schemas, toast) and are
// not what a reviewer approves.
const USER_NS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;
const KINDS = `CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE c.relkind::text END`;
const GRANTEE = `CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END`;

const QUERIES = {
  relations: `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS k, ${KINDS} AS v
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_NS} AND c.relkind IN ('r','p','v','m','S','f')`,
  columns: `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname) AS k,
      format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS dflt
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE ${USER_NS} AND c.relkind IN ('r','p','v','m','f') AND a.attnum > 0 AND NOT a.attisdropped`,
  constraints: `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(k.conname) AS k, pg_get_constraintdef(k.oid) AS v
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_NS}`,
  indexes: `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS k, pg_get_indexdef(i.indexrelid) AS v
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_NS}`,
  functions: `SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS k,
      md5(coalesce(p.prosrc, '') || '|' || p.prorettype::text || '|' || p.provolatile::text || '|' || p.prosecdef::text) AS v
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}`,
  schemas: `SELECT quote_ident(n.nspname) AS k FROM pg_namespace n WHERE ${USER_NS}`,
  // Owners' own privileges are implicit and left out: CREATE TABLE is not "owner gains SELECT".
  grants: `SELECT ${GRANTEE} || '|' || a.privilege_type || '|' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS k
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
      aclexplode(coalesce(c.relacl, acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) a
      WHERE ${USER_NS} AND c.relkind IN ('r','p','v','m','S','f') AND a.grantee <> c.relowner
    UNION ALL
    SELECT ${GRANTEE} || '|' || a.privilege_type || '|' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(att.attname)
      FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
      aclexplode(att.attacl) a
      WHERE ${USER_NS} AND att.attacl IS NOT NULL AND a.grantee <> c.relowner
    UNION ALL
    SELECT ${GRANTEE} || '|' || a.privilege_type || '|schema ' || quote_ident(n.nspname)
      FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
      WHERE ${USER_NS} AND a.grantee <> n.nspowner
    UNION ALL
    SELECT ${GRANTEE} || '|' || a.privilege_type || '|' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
      aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
      WHERE ${USER_NS} AND a.grantee <> p.proowner
    UNION ALL
    SELECT ${GRANTEE} || '|' || a.privilege_type || '|database ' || quote_ident(d.datname)
      FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
      WHERE d.datname = current_database() AND a.grantee <> d.datdba`,
  memberships: `SELECT m.rolname || '|' || r.rolname AS k
    FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member`,
  roles: `SELECT rolname AS k, array_remove(ARRAY[
      CASE WHEN rolsuper THEN 'SUPERUSER' END, CASE WHEN rolcreaterole THEN 'CREATEROLE' END,
      CASE WHEN rolcreatedb THEN 'CREATEDB' END, CASE WHEN rolcanlogin THEN 'LOGIN' END,
      CASE WHEN rolreplication THEN 'REPLICATION' END, CASE WHEN rolbypassrls THEN 'BYPASSRLS' END,
      CASE WHEN NOT rolinherit THEN 'NOINHERIT' END], NULL) AS v
    FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%'`,
} as const;

/**
 * What the catalog says now, as seen by `client`'s transaction: read before and after
 * a preview's statements, inside the transaction, so uncommitted DDL is seen.
 */
export async function snapshotCatalog(client: Queryable): Promise<CatalogSnapshot> {
  const q = async (sql: string) => (await client.query(sql)).rows;
  const kv = async (sql: string) => Object.fromEntries((await q(sql)).map((r) => [String(r.k), String(r.v)]));
  const list = async (sql: string) => (await q(sql)).map((r) => String(r.k)).sort();
  const columns: CatalogSnapshot['columns'] = {};
  for (const r of await q(QUERIES.columns)) {
    columns[String(r.k)] = { type: String(r.type), notNull: r.not_null === true, default: r.dflt === null ? null : asText(r.dflt) };
  }
  const roles: CatalogSnapshot['roles'] = {};
  for (const r of await q(QUERIES.roles)) roles[String(r.k)] = (r.v as string[]).slice();
  return {
    relations: await kv(QUERIES.relations),
    columns,
    constraints: await kv(QUERIES.constraints),
    indexes: await kv(QUERIES.indexes),
    functions: await kv(QUERIES.functions),
    schemas: await list(QUERIES.schemas),
    grants: await list(QUERIES.grants),
    memberships: await list(QUERIES.memberships),
    roles,
  };
}
