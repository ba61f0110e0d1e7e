import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createPostgresTargets } from '../../src/adapters/sql/postgres-targets.js';
import { runningAction } from '../executors/action-fixture.js';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import { executorConformance } from './executor-conformance.js';

let db: TestDatabase | undefined;
afterAll(() => db?.drop());

executorConformance('sql (postgres)', async () => {
  if (!db) {
    db = await createTestDatabase();
    await db.query('CREATE TABLE hits (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
  }
  const d = db;
  await d.query('TRUNCATE hits');
  const targets = createPostgresTargets({ t: { url: d.url } });
  return {
    executor: targets.executor,
    runnable: () => runningAction({ target: 't', kind: 'sql', input: { statement: 'INSERT INTO hits DEFAULT VALUES', params: [] } }),
    // Every run that reaches the database inserts one row; psql reads the count synchronously.
    reached: () => Number(execFileSync(join(d.cluster.binDir, 'psql'), ['-tAc', 'SELECT count(*) FROM hits', d.url], { encoding: 'utf8' }).trim()),
    secrets: [d.cluster.password, encodeURIComponent(d.cluster.password), d.url],
    close: () => targets.close(),
  };
});
