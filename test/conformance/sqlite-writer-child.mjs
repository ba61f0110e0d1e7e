// A second Countersign process writing the same SQLite file (see sqlite-store-specific.test.ts).
// Usage: node sqlite-writer-child.mjs <compiled src dir> <db path> <min writes> <id prefix>
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const [srcDir, dbPath, minText, prefix] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(join(srcDir, p)).href);
const { createSqliteStore } = await load('adapters/store/sqlite/sqlite-store.js');
const { createAction } = await load('domain/lifecycle.js');
const { writeUntilInterleaved } = await import('./sqlite-interleave.mjs');

const store = createSqliteStore({ path: dbPath, maxBatch: 4 });
const decision = { outcome: 'allow', rules: ['r'], policyVersion: 'v', reason: 'ok', requirements: [] };
const make = (i) =>
  createAction({
    id: `${prefix}-${String(i).padStart(5, '0')}`,
    request: { kind: 'http', target: 'api', input: { method: 'GET', path: `/items/${i}` } },
    requester: { id: 'agent-child', type: 'agent', owner: 'o@example.com' },
    decision,
    now: new Date(),
  });
process.stdout.write('ready\n');
const inserted = await writeUntilInterleaved(store, make, Number(minText));
await store.close();
process.stdout.write(`${JSON.stringify({ inserted })}\n`);
