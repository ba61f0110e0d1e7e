import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { SqlPrivilegeChange, SqlSchemaChange } from './sql-preview.js';

/**
 * What the catalog says about the objects a preview watches, read twice (before and
 * after the statements, in the same transaction) and compared. Keys are schema-qualified
 * names; values are PostgreSQL's own renderings (format_type, pg_get_expr,
 * pg_get_constraintdef, pg_get_indexdef), so a change is shown as PostgreSQL would write it.
 */
export interface CatalogSnapshot {
  /** `public.users` -> relation kind (`table`, `view`, `sequence`...). */
  relations: Record<string, string>;
  /** `public.users.email` -> the column. */
  columns: Record<string, { type: string; notNull: boolean; default: string | null }>;
  /** `public.users.users_pkey` -> its definition. */
  constraints: Record<string, string>;
  /** `public.users_email_idx` -> CREATE INDEX ... */
  indexes: Record<string, string>;
  /** `public.fn(integer)` -> a digest of its definition. */
  functions: Record<string, string>;
  /** Schemas by name. */
  schemas: string[];
  /** Every privilege held, one entry each: `grantee|privilege|object` (from aclexplode; PUBLIC for grantee 0). */
  grants: string[];
  /** Role memberships: `member|role`. */
  memberships: string[];
  /** Role -> its attributes (`LOGIN`, `SUPERUSER`, `CREATEROLE`...). */
  roles: Record<string, string[]>;
}

export const emptySnapshot = (): CatalogSnapshot => ({
  relations: {},
  columns: {},
  constraints: {},
  indexes: {},
  functions: {},
  schemas: [],
  grants: [],
  memberships: [],
  roles: {},
});

function diffRecord<V>(
  before: Record<string, V>,
  after: Record<string, V>,
  describe: (v: V) => string,
  changed: (a: V, b: V) => string | null,
  label: string,
): SqlSchemaChange[] {
  const out: SqlSchemaChange[] = [];
  for (const [k, v] of Object.entries(after)) {
    const old = before[k];
    if (old === undefined) out.push({ object: k, change: 'added', detail: `${label} ${describe(v)}`.trim() });
    else {
      const c = changed(old, v);
      if (c !== null) out.push({ object: k, change: 'changed', detail: `${label} ${c}`.trim() });
    }
  }
  for (const [k, v] of Object.entries(before)) {
    if (!(k in after)) out.push({ object: k, change: 'dropped', detail: `${label} ${describe(v)}`.trim() });
  }
  return out;
}

type Column = CatalogSnapshot['columns'][string];
const describeColumn = (c: Column) => `${c.type}${c.notNull ? ' NOT NULL' : ''}${c.default !== null ? ` DEFAULT ${c.default}` : ''}`;
function columnChange(a: Column, b: Column): string | null {
  const parts: string[] = [];
  if (a.type !== b.type) parts.push(`type ${a.type} -> ${b.type}`);
  if (a.notNull !== b.notNull) parts.push(b.notNull ? 'NOT NULL added' : 'NOT NULL dropped');
  if (a.default !== b.default) parts.push(`default ${a.default ?? 'none'} -> ${b.default ?? 'none'}`);
  return parts.length ? parts.join(', ') : null;
}
const textChange = (a: string, b: string) => (a === b ? null : `${a} -> ${b}`);

/** Schema changes between two snapshots, in a stable order (by object, then change). */
export function diffSchema(before: CatalogSnapshot, after: CatalogSnapshot): SqlSchemaChange[] {
  const asSet = (xs: string[]) => Object.fromEntries(xs.map((x) => [x, x]));
  const changes = [
    ...diffRecord(asSet(before.schemas), asSet(after.schemas), () => '', () => null, 'schema'),
    ...diffRecord(before.relations, after.relations, (k) => k, (a, b) => (a === b ? null : `kind ${a} -> ${b}`), ''),
    ...diffRecord(before.columns, after.columns, describeColumn, columnChange, 'column'),
    ...diffRecord(before.constraints, after.constraints, (d) => d, textChange, 'constraint'),
    ...diffRecord(before.indexes, after.indexes, (d) => d, textChange, 'index'),
    ...diffRecord(before.functions, after.functions, () => '', (a, b) => (a === b ? null : 'definition changed'), 'function'),
  ];
  return sortChanges(changes);
}

function sortChanges<T extends { object: string }>(xs: T[]): T[] {
  return xs.sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : canonicalJson(a) < canonicalJson(b) ? -1 : 1));
}

/** Who gains or loses which privilege, membership or role attribute. */
export function diffPrivileges(before: CatalogSnapshot, after: CatalogSnapshot): SqlPrivilegeChange[] {
  const out: SqlPrivilegeChange[] = [];
  const setDiff = (a: string[], b: string[]) => {
    const sb = new Set(b);
    return a.filter((x) => !sb.has(x));
  };
  const grant = (entry: string, change: SqlPrivilegeChange['change']) => {
    const [grantee = '', privilege = '', ...object] = entry.split('|');
    out.push({ grantee, change, privilege, object: object.join('|') });
  };
  for (const g of setDiff(after.grants, before.grants)) grant(g, 'gains');
  for (const g of setDiff(before.grants, after.grants)) grant(g, 'loses');
  const member = (entry: string, change: SqlPrivilegeChange['change']) => {
    const [grantee = '', role = ''] = entry.split('|');
    out.push({ grantee, change, privilege: `role ${role}`, object: role });
  };
  for (const m of setDiff(after.memberships, before.memberships)) member(m, 'gains');
  for (const m of setDiff(before.memberships, after.memberships)) member(m, 'loses');
  for (const role of new Set([...Object.keys(before.roles), ...Object.keys(after.roles)])) {
    const a = before.roles[role];
    const b = after.roles[role];
    if (!a && b) out.push({ grantee: role, change: 'gains', privilege: `role created${b.length ? ` (${b.join(', ')})` : ''}`, object: role });
    else if (a && !b) out.push({ grantee: role, change: 'loses', privilege: 'role dropped', object: role });
    else if (a && b) {
      for (const attr of setDiff(b, a)) out.push({ grantee: role, change: 'gains', privilege: attr, object: role });
      for (const attr of setDiff(a, b)) out.push({ grantee: role, change: 'loses', privilege: attr, object: role });
    }
  }
  return out.sort((x, y) => {
    const kx = `${x.grantee}\u0000${x.object}\u0000${x.privilege}\u0000${x.change}`;
    const ky = `${y.grantee}\u0000${y.object}\u0000${y.privilege}\u0000${y.change}`;
    return kx < ky ? -1 : kx > ky ? 1 : 0;
  });
}

/** sha256 hex of the canonical JSON of the changes; undefined when there are none. */
export function schemaDiffHash(changes: readonly SqlSchemaChange[], privileges: readonly SqlPrivilegeChange[] = []): string | undefined {
  if (changes.length === 0 && privileges.length === 0) return undefined;
  return sha256Hex(canonicalJson({ schema: changes, privileges }));
}
