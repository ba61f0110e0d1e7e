// A realistic audit log for the audit benchmarks: actions go through the real domain
// transitions and the real store (tree nodes, action records), and checkpoints are
// signed by the real checkpoint service along the way.
// Mix per 10 actions: 6 allowed and executed (4 entries), 1 allowed in decide mode (2),
// 1 denied (2), 2 reviewed by two approvers and executed (6): 4 entries per action.
import { randomBytes, randomUUID } from 'node:crypto';
import { createSqliteStore } from '../dist/adapters/store/sqlite/sqlite-store.js';
import { applyReview, createAction, finishExecution, startExecution } from '../dist/domain/lifecycle.js';
import { signerFromSeed } from '../dist/domain/signed-note.js';
import { createCheckpointService } from '../dist/services/checkpoint-service.js';

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

function request(i, method) {
  return {
    kind: 'http',
    target: 'github',
    input: { method, path: `/repos/acme/app/releases/${i}`, headers: { accept: 'application/json' }, ...(method === 'POST' ? { body: { tag_name: `v1.${i}.0`, draft: false } } : {}) },
    justification: 'ship the checkout fix',
  };
}

async function flow(store, i, now) {
  const kind = i % 10;
  const requester = { id: `agent-${i % 20}`, type: 'agent', owner: 'carol@example.com' };
  const id = `act_${Date.now().toString(36)}${randomBytes(8).toString('hex')}`;
  const decision = kind < 7 ? allow : kind === 7 ? deny : review;
  const t = createAction({ id, request: { ...request(i, kind === 7 ? 'DELETE' : kind >= 8 ? 'POST' : 'GET'), mode: kind === 6 ? 'decide' : 'execute' }, requester, decision, now, idempotencyKey: randomUUID() });
  await store.insertAction(t.next, t.audit);
  let a = t.next;
  if (kind >= 8) {
    for (const who of [humans[i % 3], humans[(i + 1) % 3]]) {
      const r = applyReview(a, who, 'approve', { fingerprint: a.fingerprint, via: 'cli', now });
      if (!(await store.updateAction(r.next, a.version, r.audit))) throw new Error('lost a race');
      a = r.next;
    }
  }
  if (a.status === 'approved' && a.mode === 'execute') {
    const s = startExecution(a, now, RUNNER);
    await store.updateAction(s.next, a.version, s.audit);
    const f = finishExecution(s.next, { ok: true, status: 201, headers: { 'content-type': 'application/json' }, body: { id: i } }, now);
    await store.updateAction(f.next, s.next.version, f.audit);
  }
}

/** Writes about `entries` entries to a new database at `path`; returns the signer of its checkpoints. */
export async function buildAuditLog(path, entries, { checkpointEvery = 50_000, onProgress } = {}) {
  const store = createSqliteStore({ path });
  const signer = signerFromSeed('bench.countersign.example/audit', randomBytes(32));
  const now = new Date();
  const checkpoints = createCheckpointService({ log: store, store, signer, trusted: [], clock: { now: () => new Date() }, maxEntries: checkpointEvery, maxDelayMs: 3_600_000, slackMs: 0 });
  await store.appendAudit([{ type: 'policy.loaded', ts: now.toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version: POLICY, file: 'policy.yaml', trigger: 'startup', rules: 5, previous: null } }]);
  const actions = Math.ceil(entries / 4);
  let next = 0;
  let done = 0;
  async function worker() {
    for (let i = next++; i < actions; i = next++) {
      await flow(store, i, now);
      if (++done % 5000 === 0) {
        await checkpoints.tick();
        onProgress?.(done / actions);
      }
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker));
  const size = await store.treeSize();
  // The tail: a checkpoint over everything.
  const last = createCheckpointService({ log: store, store, signer, trusted: [], clock: { now: () => new Date() }, maxEntries: 1, maxDelayMs: 0, slackMs: 0 });
  await last.tick();
  const checkpointCount = (await store.listCheckpoints(0, 1e9)).length;
  await store.close();
  return { signer, size, checkpoints: checkpointCount };
}
