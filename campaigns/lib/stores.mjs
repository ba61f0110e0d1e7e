// The stores a campaign can run against. A store is plugged in with: the config line
// that selects it, how to start afresh, and anything to start or stop beside the
// gateway. The PostgreSQL store (issue 16) joins here with its own entry (a database
// per campaign from src/demo/local-postgres.ts, several replicas, and killing the
// database connection as one more crash moment).
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export const STORES = {
  sqlite: {
    description: 'SQLite (WAL, synchronous=FULL, group commit in a writer thread)',
    configLine: () => 'store: { sqlite: ./countersign.db }',
    /** Deletes the database (and its WAL) so that the next start creates a new one. */
    fresh(dir) {
      for (const f of ['countersign.db', 'countersign.db-wal', 'countersign.db-shm']) rmSync(join(dir, f), { force: true });
    },
    /** Files holding the store's contents (scanned for canary secrets). */
    files: (dir) => [join(dir, 'countersign.db'), join(dir, 'countersign.db-wal')],
  },
};

export function storeNamed(name) {
  const s = STORES[name];
  if (!s) throw new Error(`unknown store ${name}: ${Object.keys(STORES).join(', ')} (postgres joins when its store exists)`);
  return s;
}
