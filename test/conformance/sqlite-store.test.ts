import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/ports/store.js';
import { describeStoreConformance } from './store-conformance.js';

describeStoreConformance('sqlite (inline writer)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-store-'));
  const path = join(dir, 'countersign.db');
  const opened: Store[] = [];
  const open = (): Store => {
    const s = createSqliteStore({ path, writer: 'inline' });
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
