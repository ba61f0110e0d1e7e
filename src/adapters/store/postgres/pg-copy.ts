import Database from 'better-sqlite3';
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { AppError } from '../../../domain/errors.js';
import type { SqliteDb } from '../sqlite/sqlite-db.js';
import { PG_TYPES } from './pg-connect.js';
import { openSqlite } from '../sqlite/sqlite-db.js';
import { checkReadable, migrate } from '../sqlite/sqlite-migrations.js';
import type { StoreTable } from '../store-tables.js';
import { STORE_TABLES } from '../store-tables.js';

export type CopyProgress = (done: number, total: number, table: string) => void;

const BATCH = 1000;

/** Rows as column arrays, in key order, converted for the target (booleans). */
function toPg(t: StoreTable, row: unknown[]): unknown[] {
  if (!t.booleans) return row;
  return row.map((v, i) => (t.booleans!.includes(t.columns[i]!) ? v === 1 || v === true : v));
}
function toSqlite(t: StoreTable, row: unknown[]): unknown[] {
  return row.map((v, i) => (t.booleans?.includes(t.columns[i]!) ? (v ? 1 : 0) : v));
}

async function insertPg(c: pg.PoolClient, t: StoreTable, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const params: unknown[] = [];
  const values = rows.map((r) => `(${r.map((v) => `$${params.push(v)}`).join(', ')})`).join(', ');
  await c.query(`INSERT INTO ${t.name} (${t.columns.join(', ')}) VALUES ${values}`, params);
}

/**
 * Copies a SQLite store into an empty, migrated PostgreSQL schema, in one transaction:
 * every row of every table (actions, audience, entries, tree nodes, checkpoints,
 * cosignatures, cursors, held calls, pins, deliveries and their attempts, messages,
 * console sessions and chat links, counter hits, first times and grants),
 * then sets the sequencer and the id sequences past what was copied. A target that
 * holds anything is refused: a copy never merges two logs.
 */
export async function copySqliteToPg(sqlitePath: string, pool: pg.Pool, progress: CopyProgress = () => undefined): Promise<{ rows: Record<string, number> }> {
  const src: SqliteDb = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  const c = await pool.connect();
  try {
    checkReadable(src);
    const counts = STORE_TABLES.map((t) => (src.prepare(`SELECT count(*) FROM ${t.name}`).pluck().get() as number));
    const total = counts.reduce((a, b) => a + b, 0);
    await c.query('BEGIN');
    const used = await c.query<{ n: number }>('SELECT (SELECT next_seq FROM audit_head) + (SELECT count(*) FROM actions) + (SELECT count(*) FROM channel_deliveries) AS n');
    if (Number(used.rows[0]!.n) > 0) throw new AppError('STORAGE_ERROR', 'The target PostgreSQL schema is not empty: a copy goes into a fresh schema only (it never merges two logs).');
    let done = 0;
    const rows: Record<string, number> = {};
    for (const t of STORE_TABLES) {
      const it = src.prepare(`SELECT ${t.columns.join(', ')} FROM ${t.name} ORDER BY ${t.key}`).raw().iterate() as IterableIterator<unknown[]>;
      let batch: unknown[][] = [];
      let copied = 0;
      for (const row of it) {
        batch.push(toPg(t, row));
        if (batch.length === BATCH) {
          await insertPg(c, t, batch);
          done += batch.length;
          copied += batch.length;
          batch = [];
          progress(done, total, t.name);
        }
      }
      await insertPg(c, t, batch);
      done += batch.length;
      rows[t.name] = copied + batch.length;
      progress(done, total, t.name);
      if (t.serial) await c.query(`SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT MAX(${t.serial}) FROM ${t.name}), 1), (SELECT MAX(${t.serial}) FROM ${t.name}) IS NOT NULL)`, [t.name, t.serial]);
    }
    await c.query('UPDATE audit_head SET next_seq = (SELECT COALESCE(MAX(seq) + 1, 0) FROM audit_entries)');
    await c.query('COMMIT');
    return { rows };
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
    src.close();
  }
}

/**
 * A consistent snapshot of some of a PostgreSQL store's tables, written into a new
 * SQLite file (one REPEATABLE READ transaction on the source): `audit verify` and
 * `audit export` then read it with the very code that reads a SQLite store.
 */
export async function snapshotPgToSqlite(pool: pg.Pool, sqlitePath: string, tables: readonly string[], progress: CopyProgress = () => undefined): Promise<void> {
  const chosen = STORE_TABLES.filter((t) => tables.includes(t.name));
  const dst = openSqlite(sqlitePath, 5000);
  const c = await pool.connect();
  try {
    migrate(dst);
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    let total = 0;
    for (const t of chosen) total += Number((await c.query<{ n: number }>(`SELECT count(*) AS n FROM ${t.name}`)).rows[0]!.n);
    let done = 0;
    for (const t of chosen) {
      const insert = dst.prepare(`INSERT INTO ${t.name} (${t.columns.join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`);
      const cursor = c.query(new Cursor<unknown[]>(`SELECT ${t.columns.join(', ')} FROM ${t.name} ORDER BY ${t.key}`, [], { rowMode: 'array', types: PG_TYPES }));
      try {
        for (;;) {
          const rows = await cursor.read(BATCH * 4);
          if (rows.length === 0) break;
          dst.exec('BEGIN');
          for (const r of rows) insert.run(...toSqlite(t, r));
          dst.exec('COMMIT');
          done += rows.length;
          progress(done, total, t.name);
        }
      } finally {
        await cursor.close();
      }
    }
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
    dst.close();
  }
}
