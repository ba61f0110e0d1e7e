import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import type { SqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { consoleSessionConformance } from './console-session-conformance.js';

const open: Array<{ store: SqliteStore; dir: string }> = [];

afterEach(async () => {
  for (const { store, dir } of open.splice(0)) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

consoleSessionConformance('SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-console-'));
  const store = createSqliteStore({ path: join(dir, 'countersign.db') });
  open.push({ store, dir });
  return store;
});
