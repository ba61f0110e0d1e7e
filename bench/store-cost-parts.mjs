// Where the store's CPU per allowed action goes: each step of `insertAction` timed alone,
// in one thread (the sending thread packs, the writer thread runs the rest), inside
// transactions of 128 actions without fsync, so that only CPU is counted. Used by
// audit-bench.mjs.
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { createActionsTable } from '../dist/adapters/store/sqlite/sqlite-actions.js';
import { createAuditTable } from '../dist/adapters/store/sqlite/sqlite-audit.js';
import { openSqlite } from '../dist/adapters/store/sqlite/sqlite-db.js';
import { createHistoryTables } from '../dist/adapters/store/sqlite/sqlite-history.js';
import { migrate } from '../dist/adapters/store/sqlite/sqlite-migrations.js';
import { packAction, unpackAction } from '../dist/adapters/store/sqlite/sqlite-packed-action.js';
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
  // The same serializer as postMessage to the writer thread, received synchronously.
  const { port1, port2 } = new MessageChannel();
  const time = (name, fn) => {
    const t = cpuUs();
    fn();
    out.push([name, (cpuUs() - t) / count]);
  };
  let todo = [];
  let packed = [];
  const inserts = [];
  time('the action and its two drafts (`createAction`: fingerprint, record)', () => (todo = Array.from({ length: count }, (_, i) => mk(i))));
  time('packed on the sending thread (`packAction`: the row, the JSON of the record, the canonical JSON of the two entries)', () => {
    packed = todo.map((t) => packAction(t.next, t.audit));
  });
  // postMessage sends a batch (8-128 writes) as one message: cloned in batches of 8 here.
  time('copy to the writer thread (structured clone of the packed action, both ends) and `unpackAction`', () => {
    for (let i = 0; i < count; i += 8) {
      port1.postMessage({ type: 'batch', id: i, jobs: packed.slice(i, i + 8).map((action) => ({ op: 'insertAction', args: { action } })) });
      const m = receiveMessageOnPort(port2).message;
      for (const j of m.jobs) inserts.push(unpackAction(j.args.action));
    }
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
  time('action insert: the row (its JSON with the sequence numbers added), its 6 indexes, its audience rows', () => tx((t, k) => actions.insert(inserts[k], [2 * k, 2 * k + 1])));
  time('counter history index', () => tx((t, k) => history.index(inserts[k].facts)));
  time('two entries appended: bytes joined to their sequence numbers, leaf hashes, 2 rows with their index + the tree', () => tx((t, k) => audit.appendEncoded(inserts[k].drafts, 2 * k)));
  db.close();
  port1.close();
  return out;
}
