// vitest globalSetup: one private PostgreSQL cluster for the whole test run, handed to
// test files with `provide`/`inject` (see pg-database.ts). It starts even when a run
// needs no database (about a second); when the binaries are missing, the run goes on
// and every test that asks for a database fails with the install instructions, so
// nothing is silently skipped.
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import type { PgClusterInfo } from '../../src/demo/local-postgres.js';
import { startPgCluster } from '../../src/demo/local-postgres.js';

/** The database every test database is copied from (CREATE DATABASE ... TEMPLATE). */
export const PG_TEMPLATE_DB = 'countersign_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgCluster: PgClusterInfo | { error: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster;
  try {
    cluster = await startPgCluster();
  } catch (e) {
    project.provide('pgCluster', { error: (e as Error).message });
    return async () => undefined;
  }
  const client = new pg.Client({ connectionString: cluster.url('postgres') });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${PG_TEMPLATE_DB} TEMPLATE template0 ENCODING 'UTF8'`);
  } catch (e) {
    await cluster.stop();
    throw e;
  } finally {
    await client.end().catch(() => undefined);
  }
  const { host, port, user, password, version, binDir } = cluster;
  project.provide('pgCluster', { host, port, user, password, version, binDir });
  return () => cluster.stop();
}
