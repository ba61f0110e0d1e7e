// SQLite-specific: migration 8 indexes the grants written before it, and `store copy`
// moves every column of every table (a column left out is silently lost in a copy).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/adapters/store/sqlite/sqlite-db.js';
import { MIGRATIONS, migrate } from '../../src/adapters/store/sqlite/sqlite-migrations.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { STORE_TABLES } from '../../src/adapters/store/store-tables.js';
import { grantFor } from './grant-store-conformance.js';
import { HOUR, at } from './store-fixtures.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-grant-audience-'));
  path = join(dir, 'countersign.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('migration 8: who lists a grant', () => {
  it('indexes the grants written before it under their grantors and approvers, as new ones are', async () => {
    const db = openSqlite(path, 1000);
    migrate(db, MIGRATIONS.filter((m) => m.version < 8));
    const g = grantFor('act_before', { grantedBy: ['Émile@Example.com'], approvers: ['group:dba', 'user:Dave@Example.com'] });
    db.prepare('INSERT INTO grants (id, agent, target, created_at, expires_at, max_uses, uses, record) VALUES (?, ?, ?, 0, ?, 2, 0, ?)').run(g.id, g.agent, g.target, at(HOUR).getTime(), JSON.stringify(g));
    db.close();

    const s = createSqliteStore({ path, writer: 'inline' });
    try {
      for (const key of ['user:émile@example.com', 'user:dave@example.com', 'group:dba']) {
        expect((await s.listGrants({ limit: 10, audience: [key] })).map((x) => x.id)).toEqual([g.id]);
      }
      expect(await s.listGrants({ limit: 10, audience: ['group:ops', 'user:Émile@Example.com'] })).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

describe('a rolling upgrade', () => {
  it('a grant an earlier release writes after the migration (no audience rows) is still a candidate of every listing by audience', async () => {
    const s = createSqliteStore({ path, writer: 'inline' });
    await s.close();
    const g = grantFor('act_old', { grantedBy: ['alice@example.com'], approvers: ['group:release'] });
    const db = new Database(path);
    // The statement release 7 runs: no audience_indexed, no grant_audience rows.
    db.prepare('INSERT INTO grants (id, agent, target, created_at, expires_at, max_uses, uses, record) VALUES (?, ?, ?, 0, ?, 2, 0, ?)').run(g.id, g.agent, g.target, at(HOUR).getTime(), JSON.stringify(g));
    db.close();
    const again = createSqliteStore({ path, writer: 'inline' });
    try {
      expect((await again.listGrants({ limit: 10, audience: ['user:alice@example.com'] })).map((x) => x.id)).toEqual([g.id]);
      expect((await again.listGrants({ limit: 10, audience: ['group:release'], usableAt: at(1000).getTime() })).map((x) => x.id)).toEqual([g.id]);
    } finally {
      await again.close();
    }
  });
});

describe('store copy', () => {
  it('moves every column of every table but the schema version (STORE_TABLES against the schema itself)', () => {
    const db = new Database(':memory:');
    migrate(db);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations' ORDER BY name").pluck().all() as string[];
    const schema = Object.fromEntries(tables.map((t) => [t, (db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name).sort()]));
    const copied = Object.fromEntries(STORE_TABLES.map((t) => [t.name, [...t.columns].sort()]));
    expect(copied).toEqual(schema);
    db.close();
  });
});
