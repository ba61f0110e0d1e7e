// PostgreSQL stores for the conformance suites: one database per test file on the run's
// private cluster (test/support/pg-database.ts), one fresh schema per test, so tests
// never see each other's rows. `reopen` is another replica on the same schema.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { PostgresStore, PostgresStoreOptions } from '../../src/adapters/store/postgres/pg-store.js';
import { createPostgresStore } from '../../src/adapters/store/postgres/pg-store.js';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';

/** Call at the top of a test file: the file's database, created before its tests and dropped after. */
export function usePgDatabase(): () => TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  return () => {
    if (!db) throw new Error('no test database');
    return db;
  };
}

export interface PgHarness {
  store: PostgresStore;
  reopen(): Promise<PostgresStore>;
  cleanup(): Promise<void>;
  schema: string;
}

/** A fresh schema; every store opened on it is closed, and the schema dropped, by cleanup. */
export async function pgHarness(db: TestDatabase, extra: Partial<PostgresStoreOptions> = {}): Promise<PgHarness> {
  const schema = `s_${randomBytes(5).toString('hex')}`;
  const opened: PostgresStore[] = [];
  const open = async () => {
    const s = await createPostgresStore({ url: db.url, schema, poolMax: 4, ...extra });
    opened.push(s);
    return s;
  };
  return {
    schema,
    store: await open(),
    reopen: open,
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}
