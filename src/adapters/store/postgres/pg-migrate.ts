import type pg from 'pg';
import { AppError } from '../../../domain/errors.js';
import { quoteSchema } from './pg-connect.js';
import type { PgMigration } from './pg-migrations.js';
import { PG_MIGRATIONS } from './pg-migrations.js';

/** Key of the session advisory lock every migration run holds: replicas starting together migrate once. */
const LOCK_CLASS = 0x0c5;

export interface MigrationPlan {
  /** The schema version found (0: none yet). */
  found: number;
  /** The steps a migration would apply, in order. */
  pending: Array<{ version: number; name: string }>;
}

export function knownVersion(migrations: readonly PgMigration[] = PG_MIGRATIONS): number {
  return migrations.reduce((v, m) => Math.max(v, m.version), 0);
}

function newerError(found: number, known: number): AppError {
  return new AppError(
    'STORAGE_ERROR',
    `The PostgreSQL schema has version ${found}, newer than this Countersign knows (${known}): it was migrated by a newer release. Upgrade this replica, or point it at another schema.`,
  );
}

async function foundVersion(c: pg.ClientBase, schema: string): Promise<number> {
  const exists = await c.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${quoteSchema(schema)}.schema_migrations`]);
  if (!exists.rows[0]?.t) return 0;
  const r = await c.query<{ v: number | null }>(`SELECT MAX(version) AS v FROM ${quoteSchema(schema)}.schema_migrations`);
  return Number(r.rows[0]?.v ?? 0);
}

/** What `migrate` would do, without doing it (`countersign migrate --dry-run`). */
export async function planMigrations(pool: pg.Pool, schema: string, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<MigrationPlan> {
  const c = await pool.connect();
  try {
    const found = await foundVersion(c, schema);
    const known = knownVersion(migrations);
    if (found > known) throw newerError(found, known);
    const pending = [...migrations].sort((a, b) => a.version - b.version).filter((m) => m.version > found);
    return { found, pending: pending.map(({ version, name }) => ({ version, name })) };
  } finally {
    c.release();
  }
}

/**
 * Brings the schema to the latest version. The whole run holds a session advisory lock
 * (keyed on the schema's name), so replicas that start together wait for the first one
 * and then find nothing to do; each step commits in its own transaction with its row in
 * schema_migrations. A schema from a newer release is refused untouched.
 */
export async function migratePg(pool: pg.Pool, schema: string, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<{ from: number; to: number; applied: number[] }> {
  const q = quoteSchema(schema);
  const c = await pool.connect();
  try {
    await c.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, schema]);
    try {
      const from = await foundVersion(c, schema);
      const known = knownVersion(migrations);
      if (from > known) throw newerError(from, known);
      const applied: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version).filter((x) => x.version > from)) {
        await c.query('BEGIN');
        try {
          await c.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
          await c.query(`CREATE TABLE IF NOT EXISTS ${q}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
          await c.query(`SET LOCAL search_path = ${q}`);
          await c.query(m.sql);
          await m.backfill?.(c);
          await c.query(`INSERT INTO ${q}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
        applied.push(m.version);
      }
      return { from, to: await foundVersion(c, schema), applied };
    } finally {
      await c.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, schema]).catch(() => undefined);
    }
  } finally {
    c.release();
  }
}

/**
 * For a replica told not to migrate (`store.postgres.migrate: never`) and for offline
 * tools: the schema must be exactly the version this release knows, or it refuses, saying why.
 */
export async function checkSchemaVersion(pool: pg.Pool, schema: string, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<number> {
  const c = await pool.connect();
  try {
    const found = await foundVersion(c, schema);
    const known = knownVersion(migrations);
    if (found > known) throw newerError(found, known);
    if (found < known) {
      throw new AppError(
        'STORAGE_ERROR',
        `The PostgreSQL schema "${schema}" has version ${found}, older than this Countersign's ${known}: run \`countersign migrate\` (or start one replica with store.postgres.migrate: auto).`,
      );
    }
    return found;
  } finally {
    c.release();
  }
}
