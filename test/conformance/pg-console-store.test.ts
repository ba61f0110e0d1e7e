import { afterEach } from 'vitest';
import type { PgHarness } from './pg-harness.js';
import { pgHarness, usePgDatabase } from './pg-harness.js';
import { consoleSessionConformance } from './console-session-conformance.js';

const db = usePgDatabase();
const open: PgHarness[] = [];

afterEach(async () => {
  for (const h of open.splice(0)) await h.cleanup();
});

consoleSessionConformance('PostgreSQL', async () => {
  const h = await pgHarness(db());
  open.push(h);
  return h.store;
});
