// Where the store's CPU per allowed action goes: each step of `insertAction` timed alone,
// in one thread (the writer thread runs the same code), inside transactions of 128
// actions without fsync, so that only CPU is counted. Used by audit-bench.mjs.
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { createActionsTable } from '../dist/adapters/store/sqlite/sqlite-actions.js';
import { createAuditTable } from '../dist/adapters/store/sqlite/sqlite-audit.js';
import { openSqlite } from '../dist/adapters/store/sqlite/sqlite-db.js';
import { createHistoryTables } from '../dist/adapters/store/sqlite/sqlite-history.js';
import { migrate } from '../dist/adapters/store/sqlite/sqlite-migrations.js';
import { rowOf } from '../dist/adapters/store/sqlite/sqlite-rows.js';
import { encodeAuditEntry } from '../dist/domain/audit-entry.js';
import { createAction } from '../dist/domain/lifecycle.js';

const decision = { outcome: 'allow', rules: ['reads'], policyVersion: 'sha256:bench', reason: 'reads are allowed', requirements: [] };
const cpuUs = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

/** [step, µs per action] for `count` allowed actions (two entries each). */
export function storeCostParts(dir, count = 20_000) {
  const now = new Date();
  const mk = (i) =>
    createAction({
      id: `act_${Date.now().toString(36)}${randomBytes(8).toString('hex')}`,
      request: { kind: 'http', target: 'orders-api', input: { method: 'GET', path: `/orders/${i}` }, mode: 'decide' },
      requester: { id: `agent-${i % 50}`, type: 'agent', owner: 'owner@example.com' },
      decision,
      now,
      idempotencyKey: randomUUID(),
    });
  const out = [];
  const time = (name, fn) => {
    const t = cpuUs();
    fn();
    out.push([name, (cpuUs() - t) / count]);
  };
  let todo = [];
  time('the action and its two drafts (`createAction`: fingerprint, record)', () => (todo = Array.from({ length: count }, (_, i) => mk(i))));
  time('copy to the writer thread (structured clone, both ends)', () => {
    for (const t of todo) deserialize(serialize({ op: 'insertAction', args: { action: t.next, drafts: t.audit } }));
  });
  time('two entries encoded (canonical JSON, UTF-8, leaf hash)', () => {
    let s = 0;
    for (const t of todo) for (const d of t.audit) encodeAuditEntry(s++, d);
  });
  time('the action row serialized (`rowOf`: JSON of the record)', () => {
    for (const t of todo) rowOf({ ...t.next, auditSeqs: [1, 2] });
  });
  const db = openSqlite(join(dir, 'parts.db'), 5000);
  db.pragma('synchronous = OFF');
  migrate(db);
  const actions = createActionsTable(db);
  const audit = createAuditTable(db);
  const history = createHistoryTables(db);
  const tx = (fn) => {
    for (let i = 0; i < count; i += 128) {
      db.exec('BEGIN IMMEDIATE');
      for (let k = i; k < Math.min(count, i + 128); k++) fn(todo[k], k);
      db.exec('COMMIT');
    }
  };
  time('idempotency lookup (one indexed read)', () => tx((t) => actions.byIdempotencyKey(t.next.requester.id, t.next.idempotencyKey)));
  time('action insert: `rowOf` + the row, its 6 indexes, its audience rows', () => tx((t, k) => actions.insert({ ...t.next, auditSeqs: [2 * k, 2 * k + 1] })));
  time('counter history index', () => tx((t) => history.index(t.next)));
  time('two entries appended: encoding + 2 rows with their index + the tree', () => tx((t) => audit.appendEntries(t.audit)));
  db.close();
  return out;
}
