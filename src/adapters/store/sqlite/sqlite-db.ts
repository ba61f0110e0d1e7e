import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** The part of better-sqlite3 this adapter uses: the driver's own types stay out of our code. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  /** Rows as arrays of column values (toggle). */
  raw(toggle?: boolean): SqliteStatement;
  /** Rows as their first column's value (toggle). */
  pluck(toggle?: boolean): SqliteStatement;
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

export interface SqliteDb {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
  readonly inTransaction: boolean;
  readonly open: boolean;
}

/**
 * Opens the database file with the settings every connection needs:
 * - WAL, so readers never block the writer and one fsync per commit suffices;
 * - synchronous=FULL, so a committed transaction survives power loss (NORMAL in WAL
 *   mode may lose the last commits, and an acknowledged decision must never be lost);
 * - busy_timeout, so a write waits for another process (`countersign mcp`) holding
 *   the write lock instead of failing at once;
 * - foreign_keys, so the audience table cannot point at a missing action.
 */
export function openSqlite(path: string, busyTimeoutMs: number): SqliteDb {
  // A first start creates the database's folder (`store: { sqlite: ./data/countersign.db }`).
  if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db: SqliteDb = new Database(path);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && path !== ':memory:') throw new Error(`cannot switch the database to WAL mode (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Opens an existing database read-only: a wrong path is an error, never a new empty database. */
export function openSqliteReadOnly(path: string): SqliteDb {
  return new Database(path, { readonly: true, fileMustExist: true });
}
