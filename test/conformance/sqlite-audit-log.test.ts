import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSqliteStore as fromSources } from '../../src/adapters/store/sqlite/sqlite-store.js';
import type { LogStore } from './audit-log-conformance.js';
import { describeAuditLogConformance } from './audit-log-conformance.js';

const built = fileURLToPath(new URL('../../dist/adapters/store/sqlite/sqlite-store.js', import.meta.url));
if (!existsSync(built)) throw new Error('build first (npm test does): dist/ is missing');
const fromBuild = ((await import(built)) as { createSqliteStore: typeof fromSources }).createSqliteStore;

for (const [name, factory, writer] of [
  ['sqlite (writer thread)', fromBuild, 'worker'],
  ['sqlite (inline writer)', fromSources, 'inline'],
] as const) {
  describeAuditLogConformance(name, () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-log-'));
    const opened: LogStore[] = [];
    const open = (): LogStore => {
      const s = factory({ path: join(dir, 'countersign.db'), writer });
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
}
