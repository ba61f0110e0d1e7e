// The AuditLog conformance suite: every store that holds the verifiable log runs it
// (SQLite now). The tree must be the RFC 9162 tree of the stored leaf hashes at every
// size, whatever the writes, restarts and concurrent writers; checkpoints are
// compare-and-swap; delivery cursors are leased.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../src/domain/audit-entry.js';
import { consistencyProof, inclusionProof, nodesOfLeaves, rootAt, verifyConsistency, verifyInclusion } from '../../src/domain/merkle.js';
import type { AuditLog } from '../../src/ports/audit-log.js';
import type { Store } from '../../src/ports/store.js';
import { applyReview } from '../../src/domain/lifecycle.js';
import { T0, at, human, insert, newAction, range, review } from './store-fixtures.js';

export type LogStore = Store & AuditLog;

export interface AuditLogHarness {
  store: LogStore;
  /** Another store on the same data (a restart, or a second process). */
  reopen(): Promise<LogStore>;
  cleanup(): Promise<void>;
}

const policy = (i: number): AuditDraft => ({ type: 'policy.loaded', ts: T0.toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version: `v${i}` } });
const cp = (size: number, root: Uint8Array) => ({ size, root, note: `note of ${size}\n`, signedAt: T0.toISOString() });

/** The stored leaf hashes, and the store's tree checked against the one they define, at every size. */
async function expectTreeOfLeaves(log: LogStore): Promise<Uint8Array[]> {
  const size = await log.treeSize();
  const leaves = (await log.readAudit(0, size)).map((e) => e.leafHash);
  expect(leaves).toHaveLength(size);
  const mem = nodesOfLeaves(leaves);
  for (let n = 1; n <= size; n++) {
    expect(Buffer.from(await log.rootAt(n)).equals(Buffer.from(rootAt(mem, n))), `root at ${n}`).toBe(true);
  }
  return leaves;
}

export function describeAuditLogConformance(name: string, open: () => Promise<AuditLogHarness>): void {
  describe(`AuditLog conformance: ${name}`, () => {
    let h: AuditLogHarness;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('keeps the RFC 9162 tree of its entries at every size, through inserts, updates and plain appends', async () => {
      const { store } = h;
      expect(await store.treeSize()).toBe(0);
      for (let i = 0; i < 12; i++) {
        const t = newAction({ decision: i % 3 ? undefined : review() });
        await insert(store, t);
        if (i % 3 === 0) {
          const r = applyReview(t.next, human('alice@example.com', 'sre'), 'approve', { fingerprint: t.next.fingerprint, via: 'api', now: at(1000) });
          expect(await store.updateAction(r.next, 1, r.audit)).toBe(true);
        }
        if (i % 4 === 0) await store.appendAudit(range(i % 5).map(policy));
      }
      expect(await store.treeSize()).toBeGreaterThan(30);
      await expectTreeOfLeaves(store);
    });

    it('gives inclusion and consistency proofs that verify and equal those of the definition', async () => {
      const { store } = h;
      await store.appendAudit(range(70).map(policy));
      const leaves = await expectTreeOfLeaves(store);
      const mem = nodesOfLeaves(leaves);
      for (const n of [1, 2, 16, 17, 33, 64, 70]) {
        const root = await store.rootAt(n);
        for (const i of [0, Math.floor(n / 2), n - 1]) {
          const p = await store.inclusionProof(i, n);
          expect(p.map((x) => Buffer.from(x).toString('hex'))).toEqual(inclusionProof(mem, i, n).map((x) => Buffer.from(x).toString('hex')));
          expect(verifyInclusion(i, n, leaves[i]!, p, root)).toBe(true);
        }
        for (const m of [1, Math.ceil(n / 3), n]) {
          const p = await store.consistencyProof(m, n);
          expect(p.map((x) => Buffer.from(x).toString('hex'))).toEqual(consistencyProof(mem, m, n).map((x) => Buffer.from(x).toString('hex')));
          expect(verifyConsistency(m, n, await store.rootAt(m), root, p)).toBe(true);
        }
      }
      await expect(store.rootAt(71)).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    });

    it('goes on with the same tree after a restart, and with another writer on the same data', async () => {
      await h.store.appendAudit(range(21).map(policy));
      const other = await h.reopen();
      // Interleaved appends from both: each writer must pick up what the other wrote.
      for (let i = 0; i < 10; i++) {
        await (i % 2 ? h.store : other).appendAudit(range((i % 3) + 1).map(policy));
        const t = newAction();
        await insert(i % 2 ? other : h.store, t);
      }
      await Promise.all(range(20).map((i) => (i % 2 ? h.store : other).appendAudit([policy(i)])));
      await expectTreeOfLeaves(h.store);
      await expectTreeOfLeaves(other);
    });

    it('lists the sequence numbers of an action\'s entries on the record, as stored', async () => {
      const { store } = h;
      await store.appendAudit([policy(0)]);
      const t = newAction({ decision: review() });
      const r = await store.insertAction(t.next, t.audit);
      expect(r.inserted && r.action.auditSeqs).toEqual([1, 2]);
      await store.appendAudit([policy(1)]);
      const rv = applyReview(t.next, human('bob@example.com', 'sre'), 'approve', { fingerprint: t.next.fingerprint, via: 'api', now: at(10) });
      expect(await store.updateAction(rv.next, 1, rv.audit)).toBe(true);
      expect(rv.next.auditSeqs).toEqual([1, 2, 4]);
      expect((await store.getAction(t.next.id))!.auditSeqs).toEqual([1, 2, 4]);
      expect(await store.auditSeqsFor(t.next.id)).toEqual([1, 2, 4]);
      // A lost compare-and-swap writes nothing, seqs included.
      expect(await store.updateAction({ ...rv.next, version: 2 }, 1, rv.audit)).toBe(false);
      expect((await store.getAction(t.next.id))!.auditSeqs).toEqual([1, 2, 4]);
    });

    it('stores one checkpoint per size, compare-and-swap on the latest, and keeps them all', async () => {
      const { store } = h;
      await store.appendAudit(range(10).map(policy));
      const r4 = await store.rootAt(4);
      expect(await store.latestCheckpoint()).toBeUndefined();
      expect(await store.addCheckpoint(cp(4, r4), -1)).toBe(true);
      expect(await store.addCheckpoint(cp(4, r4), -1)).toBe(false);
      expect(await store.addCheckpoint(cp(6, await store.rootAt(6)), 3)).toBe(false);
      expect(await store.addCheckpoint(cp(3, await store.rootAt(3)), 4)).toBe(false);
      const racing = await Promise.all([store.addCheckpoint(cp(8, await store.rootAt(8)), 4), store.addCheckpoint(cp(9, await store.rootAt(9)), 4)]);
      expect(racing.filter(Boolean)).toHaveLength(1);
      await expect(store.addCheckpoint(cp(11, r4), racing[0] ? 8 : 9)).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
      const all = await store.listCheckpoints(0, 100);
      expect(all.map((c) => c.size)).toEqual([4, racing[0] ? 8 : 9]);
      expect((await store.latestCheckpoint())!.size).toBe(racing[0] ? 8 : 9);
      expect((await store.checkpointCovering(5))!.size).toBe(racing[0] ? 8 : 9);
      expect((await store.checkpointCovering(4))!.size).toBe(4);
      expect(Buffer.from(all[0]!.root).equals(Buffer.from(r4))).toBe(true);
      await store.addCosignature(4, 'witness-a', '— w cosig\n', T0.toISOString());
      await store.addCosignature(4, 'witness-a', '— w other\n', T0.toISOString());
      expect((await store.listCheckpoints(4, 1))[0]!.cosignatures).toEqual(['— w cosig\n']);
    });

    it('leases delivery cursors to one owner at a time and moves them compare-and-swap', async () => {
      const { store } = h;
      expect(await store.cursor('siem:x')).toBeUndefined();
      expect(await store.claimCursor('siem:x', 'p1', 1000, 2000)).toBe(0);
      expect(await store.claimCursor('siem:x', 'p2', 1500, 2500)).toBeUndefined();
      expect(await store.advanceCursor('siem:x', 'p1', 0, 10)).toBe(true);
      expect(await store.advanceCursor('siem:x', 'p1', 0, 20)).toBe(false);
      expect(await store.advanceCursor('siem:x', 'p2', 10, 20)).toBe(false);
      // The lease ran out: another owner takes over where it stood.
      expect(await store.claimCursor('siem:x', 'p2', 2001, 3000)).toBe(10);
      expect(await store.advanceCursor('siem:x', 'p1', 10, 20)).toBe(false);
      expect(await store.advanceCursor('siem:x', 'p2', 10, 20)).toBe(true);
      expect(await store.cursor('siem:x')).toBe(20);
      expect(await store.claimCursor('witness:y', 'p1', 0, 1)).toBe(0);
    });
  });
}
