import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { createSqliteStore as fromSources } from '../../src/adapters/store/sqlite/sqlite-store.js';

// The writer thread runs compiled JavaScript, so that variant uses the built store
// (npm test builds first); the inline writer runs from the sources.
const built = fileURLToPath(new URL('../../dist/adapters/store/sqlite/sqlite-store.js', import.meta.url));
if (!existsSync(built)) throw new Error('build first (npm test does): dist/ is missing');
const fromBuild = ((await import(built)) as { createSqliteStore: typeof fromSources }).createSqliteStore;

export const sqliteVariants = [
  ['sqlite (writer thread)', fromBuild, 'worker'],
  ['sqlite (inline writer)', fromSources, 'inline'],
] as const;

/** A fresh database file; every store opened on it is closed, and the file deleted, by cleanup. */
export function sqliteHarness(factory: typeof fromSources, writer: 'worker' | 'inline') {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-store-'));
  const path = join(dir, 'countersign.db');
  const opened: SqliteStore[] = [];
  const open = (): SqliteStore => {
    const s = factory({ path, writer });
    opened.push(s);
    return s;
  };
  return Promise.resolve({
    store: open(),
    reopen: () => Promise.resolve(open()),
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
