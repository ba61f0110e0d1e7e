import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { createSqliteStore as CreateStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/ports/store.js';
import { describeStoreConformance } from './store-conformance.js';

// The same suite against the built store, whose writes run in its writer thread
// (the worker runs compiled JavaScript, so this uses dist/: npm test builds first).
const built = fileURLToPath(new URL('../../dist/adapters/store/sqlite/sqlite-store.js', import.meta.url));
if (!existsSync(built)) throw new Error('build first (npm test does): dist/ is missing');
const { createSqliteStore } = (await import(built)) as { createSqliteStore: typeof CreateStore };

describeStoreConformance('sqlite (writer thread)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-store-'));
  const path = join(dir, 'countersign.db');
  const opened: Store[] = [];
  const open = (): Store => {
    const s = createSqliteStore({ path, writer: 'worker' });
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
});
