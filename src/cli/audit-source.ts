import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgPool } from '../adapters/store/postgres/pg-connect.js';
import { snapshotPgToSqlite } from '../adapters/store/postgres/pg-copy.js';
import { checkSchemaVersion } from '../adapters/store/postgres/pg-migrate.js';
import { AUDIT_TABLES } from '../adapters/store/store-tables.js';
import type { LoadedConfig } from '../config/load.js';
import { loadConfig } from '../config/load.js';
import { parseDuration } from '../domain/duration.js';

export interface AuditSource {
  /** A SQLite file holding the log (the store itself, or a snapshot of PostgreSQL's). */
  path: string;
  /** What to call it in reports: never a URL. */
  label: string;
  cleanup(): void;
}

/**
 * The log a config names, as a SQLite file that `audit verify` and `audit export` read.
 * For PostgreSQL: one consistent snapshot (REPEATABLE READ) of the log's tables (entries,
 * tree nodes, checkpoints, cosignatures, cursors), copied as stored into a private temp
 * file, so that the same checks run on the same bytes; deleted afterwards.
 */
export async function auditSourceOf(loaded: LoadedConfig, progress?: (done: number, total: number) => void): Promise<AuditSource> {
  if (loaded.store.kind === 'sqlite') return { path: loaded.storePath, label: loaded.storePath, cleanup: () => undefined };
  // The URL is a secret: read it with the environment, now that it is needed.
  const store = loadConfig(loaded.file).store;
  if (store.kind !== 'postgres') throw new Error('the store changed while reading the config');
  const c = store.config;
  const pool = createPgPool({ url: c.url, schema: c.schema, max: 2, statementTimeoutMs: 0, connectTimeoutMs: parseDuration(c.connectTimeout) });
  const dir = mkdtempSync(join(tmpdir(), 'countersign-audit-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    await checkSchemaVersion(pool, c.schema);
    const path = join(dir, 'snapshot.db');
    await snapshotPgToSqlite(pool, path, AUDIT_TABLES, progress);
    return { path, label: `PostgreSQL schema ${c.schema}`, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  } finally {
    await pool.end();
  }
}
