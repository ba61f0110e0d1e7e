import { describe, expect, it } from 'vitest';
import type { CatalogSnapshot } from './sql-schema-diff.js';
import { diffPrivileges, diffSchema, emptySnapshot, schemaDiffHash } from './sql-schema-diff.js';

const snap = (p: Partial<CatalogSnapshot>): CatalogSnapshot => ({ ...emptySnapshot(), ...p });

describe('catalog snapshot diff', () => {
  const before = snap({
    relations: { 'public.users': 'table' },
    columns: {
      'public.users.id': { type: 'integer', notNull: true, default: null },
      'public.users.email': { type: 'text', notNull: false, default: null },
    },
    constraints: { 'public.users.users_pkey': 'PRIMARY KEY (id)' },
  });

  it('names added, changed and dropped columns, constraints and indexes', () => {
    const after = snap({
      relations: { 'public.users': 'table' },
      columns: {
        'public.users.id': { type: 'bigint', notNull: true, default: null },
        'public.users.name': { type: 'text', notNull: true, default: "''::text" },
      },
      constraints: {},
      indexes: { 'public.users_name_idx': 'CREATE INDEX users_name_idx ON public.users USING btree (name)' },
    });
    expect(diffSchema(before, after)).toEqual([
      { object: 'public.users.email', change: 'dropped', detail: 'column text' },
      { object: 'public.users.id', change: 'changed', detail: 'column type integer -> bigint' },
      { object: 'public.users.name', change: 'added', detail: "column text NOT NULL DEFAULT ''::text" },
      { object: 'public.users.users_pkey', change: 'dropped', detail: 'constraint PRIMARY KEY (id)' },
      { object: 'public.users_name_idx', change: 'added', detail: 'index CREATE INDEX users_name_idx ON public.users USING btree (name)' },
    ]);
  });

  it('equal snapshots have no diff and no hash; a diff has a stable hash', () => {
    expect(diffSchema(before, before)).toEqual([]);
    expect(schemaDiffHash([])).toBeUndefined();
    const changes = diffSchema(before, emptySnapshot());
    expect(schemaDiffHash(changes)).toMatch(/^[0-9a-f]{64}$/);
    expect(schemaDiffHash(changes)).toBe(schemaDiffHash(diffSchema(before, emptySnapshot())));
  });

  it('says who gains or loses which privilege, membership and role attribute', () => {
    const b = snap({ grants: ['alice|SELECT|public.users'], memberships: [], roles: { alice: ['LOGIN'] } });
    const a = snap({ grants: ['bob|UPDATE|public.users'], memberships: ['alice|admin'], roles: { alice: ['LOGIN', 'CREATEROLE'], carol: [] } });
    expect(diffPrivileges(b, a)).toEqual([
      { grantee: 'alice', change: 'gains', privilege: 'role admin', object: 'admin' },
      { grantee: 'alice', change: 'gains', privilege: 'CREATEROLE', object: 'alice' },
      { grantee: 'alice', change: 'loses', privilege: 'SELECT', object: 'public.users' },
      { grantee: 'bob', change: 'gains', privilege: 'UPDATE', object: 'public.users' },
      { grantee: 'carol', change: 'gains', privilege: 'role created', object: 'carol' },
    ]);
  });
});
