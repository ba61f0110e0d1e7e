import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_EVERY_COMMITS, createCheckpointer, FALLBACK_CHECKPOINT_PAGES } from './sqlite-checkpointer.js';
import type { SqliteDb } from './sqlite-db.js';
import { openSqlite } from './sqlite-db.js';

const dirs: string[] = [];
const dbs: SqliteDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database whose commits write about 10 pages each (a 40 KB row). */
function database() {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-checkpointer-'));
  dirs.push(dir);
  const path = join(dir, 'c.db');
  const db = openSqlite(path, 1000);
  dbs.push(db);
  db.exec('CREATE TABLE t (v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const reader = () => {
    const r = openSqlite(path, 1000);
    dbs.push(r);
    return r;
  };
  return { db, size: () => statSync(path).size, commit: () => insert.run('x'.repeat(40_000)), reader };
}

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('checkpoints between commits', () => {
  it('no commit checkpoints on crossing SQLite\'s 1,000 pages; after enough commits the next idle turn copies the WAL into the database file', async () => {
    const { db, size, commit } = database();
    let busy = false;
    const checkpointer = createCheckpointer(db, () => busy);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(FALLBACK_CHECKPOINT_PAGES);
    for (let i = 0; i < CHECKPOINT_EVERY_COMMITS - 1; i++) {
      commit();
      checkpointer.committed();
    }
    // About 1,270 pages in the WAL: a connection with SQLite's default would have copied them during a commit.
    await nextTurn();
    expect(size()).toBeLessThan(1_000_000);

    // A write waiting when the turn comes goes first: nothing is copied then.
    busy = true;
    commit();
    checkpointer.committed();
    await nextTurn();
    expect(size()).toBeLessThan(1_000_000);

    busy = false;
    commit();
    checkpointer.committed();
    expect(size()).toBeLessThan(1_000_000);
    await nextTurn();
    expect(size()).toBeGreaterThan(40_000 * CHECKPOINT_EVERY_COMMITS);
  });

  it('while a reader keeps older frames, the WAL is not all copied: the next commit tries again, not 128 commits later', async () => {
    const { db, size, commit, reader } = database();
    const checkpointer = createCheckpointer(db, () => false);
    const r = reader();
    // A read transaction on the WAL as it is after the first commit: the frames after it may be copied, not the ones it reads past.
    commit();
    r.exec('BEGIN');
    r.prepare('SELECT count(*) FROM t').get();
    for (let i = 0; i < CHECKPOINT_EVERY_COMMITS; i++) {
      commit();
      checkpointer.committed();
    }
    await nextTurn();
    const partial = size();
    expect(partial).toBeLessThan(40_000 * CHECKPOINT_EVERY_COMMITS);
    r.exec('COMMIT');
    commit();
    checkpointer.committed();
    await nextTurn();
    expect(size()).toBeGreaterThan(40_000 * CHECKPOINT_EVERY_COMMITS);
  });
});
