// A realistic audit log for the audit benchmarks, built fast: actions go through the
// real domain transitions and the store's own write operations (entries, tree nodes,
// action records), 2,000 actions per transaction; a checkpoint is signed every
// `checkpointEvery` entries, as the gateway would.
// Mix per 10 actions: 6 allowed and executed (4 entries), 1 allowed in decide mode (2),
// 1 denied (2), 2 reviewed by two approvers and executed (6): 4 entries per action.
import { randomBytes, randomUUID } from 'node:crypto';
import { createActionsTable } from '../dist/adapters/store/sqlite/sqlite-actions.js';
import { createAuditTable } from '../dist/adapters/store/sqlite/sqlite-audit.js';
import { createAuditLogReads, createAuditLogTable } from '../dist/adapters/store/sqlite/sqlite-audit-log.js';
import { openSqlite } from '../dist/adapters/store/sqlite/sqlite-db.js';
import { packAction } from '../dist/adapters/store/sqlite/sqlite-packed-action.js';
import { createHistoryTables } from '../dist/adapters/store/sqlite/sqlite-history.js';
import { migrate } from '../dist/adapters/store/sqlite/sqlite-migrations.js';
import { createWriteOps } from '../dist/adapters/store/sqlite/sqlite-write-ops.js';
import { signCheckpoint } from '../dist/domain/checkpoint.js';
import { applyReview, createAction, finishExecution, startExecution } from '../dist/domain/lifecycle.js';
import { signerFromSeed } from '../dist/domain/signed-note.js';

const POLICY = `sha256:${'5'.repeat(64)}`;
const RUNNER = { host: 'bench', pid: 1, instance: 'bench', leaseUntil: '2099-01-01T00:00:00.000Z' };
const allow = { outcome: 'allow', rules: ['reads'], policyVersion: POLICY, reason: 'reads are allowed', requirements: [] };
const deny = { outcome: 'deny', rules: ['no-deletes'], policyVersion: POLICY, reason: 'deletes are denied', requirements: [] };
const review = {
  outcome: 'review',
  rules: ['releases'],
  policyVersion: POLICY,
  reason: 'releases need two approvals',
  requirements: [{ ruleId: 'releases', approvers: ['group:release'], quorum: 2, timeoutMs: 3_600_000 }],
};
const humans = ['alice@example.com', 'bob@example.com', 'dave@example.com'].map((id) => ({ type: 'human', id, groups: ['release'] }));

function request(i, method, mode) {
  return {
    kind: 'http',
    target: 'github',
    input: { method, path: `/repos/acme/app/releases/${i}`, headers: { accept: 'application/json' }, ...(method === 'POST' ? { body: { tag_name: `v1.${i}.0`, draft: false } } : {}) },
    justification: 'ship the checkout fix',
    mode,
  };
}

/** One action's writes, as the services would make them. */
function flow(ops, i, now) {
  const kind = i % 10;
  const requester = { id: `agent-${i % 20}`, type: 'agent', owner: 'carol@example.com' };
  const id = `act_${Date.now().toString(36)}${randomBytes(8).toString('hex')}`;
  const decision = kind < 7 ? allow : kind === 7 ? deny : review;
  const t = createAction({ id, request: request(i, kind === 7 ? 'DELETE' : kind >= 8 ? 'POST' : 'GET', kind === 6 ? 'decide' : 'execute'), requester, decision, now, idempotencyKey: randomUUID() });
  const ins = ops.insertAction({ action: packAction(t.next, t.audit) });
  let a = { ...t.next, auditSeqs: ins.auditSeqs };
  const update = (tr) => {
    const seqs = ops.updateAction({ next: tr.next, expectedVersion: a.version, drafts: tr.audit });
    if (!seqs) throw new Error('lost a race');
    a = { ...tr.next, auditSeqs: seqs };
  };
  if (kind >= 8) for (const who of [humans[i % 3], humans[(i + 1) % 3]]) update(applyReview(a, who, 'approve', { fingerprint: a.fingerprint, via: 'cli', now }));
  if (a.status === 'approved' && a.mode === 'execute') {
    update(startExecution(a, now, RUNNER));
    update(finishExecution(a, { ok: true, status: 201, headers: { 'content-type': 'application/json' }, body: { id: i } }, now));
  }
}

/** Writes about `entries` entries to a new database at `path`; returns the signer of its checkpoints. */
export function buildAuditLog(path, entries, { checkpointEvery = 50_000, onProgress } = {}) {
  const db = openSqlite(path, 5000);
  db.pragma('synchronous = OFF'); // a fixture: durability of the build does not matter
  migrate(db);
  const ops = createWriteOps({ actions: createActionsTable(db), audit: createAuditTable(db), auditLog: createAuditLogTable(db), history: createHistoryTables(db) });
  const reads = createAuditLogReads(db);
  const signer = signerFromSeed('bench.countersign.example/audit', randomBytes(32));
  const now = new Date();
  let last = -1;
  const checkpoint = () => {
    const size = reads.treeSize();
    const cp = signCheckpoint({ origin: signer.name, size, root: reads.rootAt(size) }, signer);
    db.exec('BEGIN IMMEDIATE');
    ops.addCheckpoint({ cp: { size, root: cp.root, note: cp.note, signedAt: now.toISOString() }, previousSize: last });
    db.exec('COMMIT');
    last = size;
  };
  db.exec('BEGIN IMMEDIATE');
  ops.appendAudit({ drafts: [{ type: 'policy.loaded', ts: now.toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version: POLICY, file: 'policy.yaml', trigger: 'startup', rules: 5, previous: null } }] });
  db.exec('COMMIT');
  const actions = Math.ceil(entries / 4);
  let nextCheckpoint = checkpointEvery;
  for (let i = 0; i < actions; ) {
    db.exec('BEGIN IMMEDIATE');
    for (const end = Math.min(actions, i + 2000); i < end; i++) flow(ops, i, now);
    db.exec('COMMIT');
    if (reads.treeSize() >= nextCheckpoint) {
      checkpoint();
      nextCheckpoint += checkpointEvery;
    }
    onProgress?.(i / actions);
  }
  if (reads.treeSize() !== last) checkpoint();
  const size = reads.treeSize();
  const checkpoints = reads.listCheckpoints(0, 1e9).length;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { signer, size, checkpoints };
}
