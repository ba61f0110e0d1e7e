// What the conformance suite cannot say for every store: SQLite's settings, the
// database-level guards of the audit table, migrations, and a second process.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/adapters/store/sqlite/sqlite-db.js';
import { LATEST_VERSION, MIGRATIONS, migrate } from '../../src/adapters/store/sqlite/sqlite-migrations.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import type { AppError } from '../../src/domain/errors.js';
import type { Store } from '../../src/ports/store.js';
import { allEntries, expectMaskedStorageError, expectWellFormedLog, insert, newAction, rejectionOf } from './store-fixtures.js';
import { writeUntilInterleaved } from './sqlite-interleave.mjs';
import { transpileSrc } from './transpile-src.js';

let dir: string;
let path: string;
const stores: Store[] = [];
const raw: Array<{ close(): unknown; open: boolean }> = [];

function store(opts: { busyTimeoutMs?: number; maxBatch?: number } = {}): Store {
  const s = createSqliteStore({ path, ...opts });
  stores.push(s);
  return s;
}

function rawDb(): Database.Database {
  const db = new Database(path);
  raw.push(db);
  return db;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-sqlite-'));
  path = join(dir, 'countersign.db');
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const db of raw.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite connection settings', () => {
  it('opens in WAL mode with synchronous=FULL and the busy timeout asked for', () => {
    const db = openSqlite(path, 1234);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL: a commit survives power loss
      expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    } finally {
      db.close();
    }
  });

  it('creates the database\'s folder on a first start, readable by its owner only', () => {
    const nested = join(dir, 'data', 'countersign.db');
    const s = createSqliteStore({ path: nested });
    stores.push(s);
    expect(existsSync(nested)).toBe(true);
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
  });

  it('fails to open an unusable path with a STORAGE_ERROR that keeps the cause out of details', () => {
    let error: unknown;
    try {
      writeFileSync(join(dir, 'a-file'), '');
      createSqliteStore({ path: join(dir, 'a-file', 'x.db') });
    } catch (e) {
      error = e;
    }
    expect((error as AppError).code).toBe('STORAGE_ERROR');
    expect((error as AppError).details).toBeUndefined();
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

describe('the audit table guards itself', () => {
  it('refuses UPDATE and DELETE of audit rows through SQL, and a second entry under one sequence number', async () => {
    const s = store();
    await insert(s, newAction());
    const before = await allEntries(s);
    const db = rawDb();
    expect(() => db.prepare("UPDATE audit_entries SET type = 'policy.loaded' WHERE seq = 0").run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE audit_entries SET bytes = x'00' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_entries WHERE seq = 1').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_entries').run()).toThrow(/append-only/);
    const insertAt = db.prepare("INSERT INTO audit_entries (seq, ts, type, bytes, leaf_hash) VALUES (?, 't', 'policy.loaded', x'00', zeroblob(32))");
    expect(() => insertAt.run(1)).toThrow(/UNIQUE|PRIMARY KEY/);
    // Gaps and REPLACE (which deletes without firing delete triggers unless
    // recursive_triggers is on) are left to the offline verifier, which recomputes the
    // log from its entries: a writer that bypasses Countersign can drop triggers anyway.
    const after = await allEntries(s);
    expect(after.map((e) => Buffer.from(e.bytes).toString('hex'))).toEqual(before.map((e) => Buffer.from(e.bytes).toString('hex')));
  });
});

describe('migrations', () => {
  function versions(): Array<{ version: number; applied_at: string }> {
    const db = rawDb();
    return db.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all() as Array<{ version: number; applied_at: string }>;
  }

  it('applies each migration once: opening again changes nothing', async () => {
    const s = store();
    await insert(s, newAction());
    await s.close();
    const first = versions();
    expect(first.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
    const again = store();
    expect(await again.auditSize()).toBe(2);
    expect(versions()).toEqual(first);
  });

  it('refuses a database written by a newer release, and leaves it untouched', async () => {
    const s = store();
    const t = newAction();
    await insert(s, t);
    await s.close();
    const db = rawDb();
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 'later')").run(LATEST_VERSION + 1);
    db.close();
    let error: unknown;
    try {
      store();
    } catch (e) {
      error = e;
    }
    expect((error as AppError).code).toBe('STORAGE_ERROR');
    expect((error as Error).message).toMatch(new RegExp(`schema version ${LATEST_VERSION + 1}, newer than this Countersign knows \\(${LATEST_VERSION}\\)`));
    expect(versions().map((v) => v.version)).toContain(LATEST_VERSION + 1);
    expect((rawDb().prepare('SELECT count(*) AS n FROM actions').get() as { n: number }).n).toBe(1);
  });

  it('rolls a failing migration back entirely and records nothing for it', () => {
    const db = openSqlite(path, 1000);
    try {
      expect(migrate(db, [{ version: 1, name: 'one', sql: 'CREATE TABLE one (x INTEGER)' }])).toBe(1);
      const broken = [
        { version: 1, name: 'one', sql: 'CREATE TABLE one (x INTEGER)' },
        { version: 2, name: 'two', sql: 'CREATE TABLE two (x INTEGER); CREATE TABLE one (y INTEGER)' },
      ];
      expect(() => migrate(db, broken)).toThrow(/already exists/);
      expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'two'").get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: 1 });
    } finally {
      db.close();
    }
  });
});

describe('another process writing the same file', () => {
  it('fails a batch with STORAGE_ERROR when the write lock stays taken past busy_timeout, then recovers', async () => {
    const s = store({ busyTimeoutMs: 50 });
    await insert(s, newAction());
    const holder = rawDb();
    holder.exec('BEGIN IMMEDIATE');
    const t = newAction();
    expectMaskedStorageError(await rejectionOf(s.insertAction(t.next, t.audit)));
    holder.exec('COMMIT');
    await insert(s, t);
    const entries = await allEntries(s);
    expect(entries).toHaveLength(4);
    expectWellFormedLog(entries);
  });

  it('keeps audit sequence numbers contiguous while a second process writes at the same time', async () => {
    const compiled = join(dir, 'compiled');
    transpileSrc(compiled);
    const s = store({ maxBatch: 4 });
    await s.auditSize(); // the schema exists before the child opens the file
    const child = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'sqlite-writer-child.mjs'), join(compiled, 'src'), path, '100', 'child'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');

    const mine = await writeUntilInterleaved(s, (i: number) => newAction({ id: `parent-${String(i).padStart(5, '0')}`, now: new Date() }), 100);
    const theirs = (JSON.parse((await lines.next()).value as string) as { inserted: number }).inserted;
    const code = await new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', r)));
    expect(code).toBe(0);
    expect(theirs).toBeGreaterThanOrEqual(100);

    const entries = await allEntries(s);
    expect(entries).toHaveLength(2 * (mine + theirs));
    expectWellFormedLog(entries);
    const byAction = new Map<string, number[]>();
    for (const e of entries) byAction.set(e.actionId!, [...(byAction.get(e.actionId!) ?? []), e.seq]);
    expect(byAction.size).toBe(mine + theirs);
    for (const seqs of byAction.values()) expect(seqs[1]).toBe(seqs[0]! + 1);
    // Both processes' writes are in the log, interleaved rather than one after the other.
    const owners = entries.map((e) => e.actionId!.split('-')[0]);
    const switches = owners.filter((o, i) => i > 0 && o !== owners[i - 1]).length;
    expect(switches).toBeGreaterThan(1);
  });
});
