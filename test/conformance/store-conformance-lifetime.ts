import { describe, expect, it } from 'vitest';
import { applyReview } from '../../src/domain/lifecycle.js';
import type { ConformanceContext } from './store-conformance.js';
import { T0, agentA, allEntries, at, expectMaskedStorageError, expectWellFormedLog, human, insert, newAction, range, rejectionOf, review } from './store-fixtures.js';

export function describeLifetime(ctx: ConformanceContext): void {
  describe('durability and lifetime', () => {
    it('keeps actions, audit entries and idempotency keys across close and reopen', async () => {
      const { store, harness } = ctx;
      const keyed = newAction({ idempotencyKey: 'k-durable', decision: review({ quorum: 2 }) });
      await insert(store, keyed);
      const reviewed = applyReview(keyed.next, human('alice@example.com', 'sre'), 'approve', { fingerprint: keyed.next.fingerprint, via: 'api', now: at(5) });
      expect(await store.updateAction(reviewed.next, 1, reviewed.audit)).toBe(true);
      await store.appendAudit([{ type: 'policy.loaded', ts: T0.toISOString(), data: { version: 'v1' } }]);
      const before = await allEntries(store);
      await store.close();

      const again = await harness.reopen();
      expect(await again.getAction(keyed.next.id)).toEqual(reviewed.next);
      const after = await allEntries(again);
      expect(after.map((e) => Buffer.from(e.bytes).toString('hex'))).toEqual(before.map((e) => Buffer.from(e.bytes).toString('hex')));
      expect(after.map((e) => Buffer.from(e.leafHash).toString('hex'))).toEqual(before.map((e) => Buffer.from(e.leafHash).toString('hex')));
      const repeat = newAction({ idempotencyKey: 'k-durable' });
      expect(await again.insertAction(repeat.next, repeat.audit)).toEqual({ inserted: false, existing: reviewed.next });
      expect(ids(await again.listActions({ audience: ['user:alice@example.com'], limit: 10 }))).toEqual([keyed.next.id]);
      // Sequence numbers continue where the log ended.
      const more = await again.appendAudit([{ type: 'policy.loaded', ts: T0.toISOString(), data: { version: 'v2' } }]);
      expect(more[0]!.seq).toBe(before.length);
    });

    it('commits writes already requested when closed, then refuses new ones', async () => {
      const { store, harness } = ctx;
      const ts = range(5).map(() => newAction());
      const writes = ts.map((t) => store.insertAction(t.next, t.audit));
      await store.close();
      for (const r of await Promise.all(writes)) expect(r.inserted).toBe(true);
      await store.close();
      const late = newAction();
      expectMaskedStorageError(await rejectionOf(store.insertAction(late.next, late.audit)));

      const again = await harness.reopen();
      for (const t of ts) expect(await again.getAction(t.next.id)).toEqual(t.next);
      expect(await again.getAction(late.next.id)).toBeUndefined();
      expect(await again.auditSize()).toBe(10);
    });

    it('keeps one contiguous log when two stores on the same data write at once', async () => {
      const { store, harness } = ctx;
      const other = await harness.reopen();
      const mine = range(30).map(() => newAction({ requester: agentA }));
      const theirs = range(30).map(() => newAction({ decision: review() }));
      const results = await Promise.all(mine.flatMap((t, i) => [store.insertAction(t.next, t.audit), other.insertAction(theirs[i]!.next, theirs[i]!.audit)]));
      expect(results.every((r) => r.inserted)).toBe(true);
      for (const s of [store, other]) {
        const entries = await allEntries(s);
        expect(entries).toHaveLength(120);
        expectWellFormedLog(entries);
      }
      expect(await other.getAction(mine[0]!.next.id)).toEqual(mine[0]!.next);
      expect(await store.getAction(theirs[0]!.next.id)).toEqual(theirs[0]!.next);
      // The same CAS guards both: a stale write through the other store misses.
      const t = theirs[0]!;
      const r1 = applyReview(t.next, human('a@example.com', 'sre'), 'deny', { via: 'api', now: at(5) });
      const r2 = applyReview(t.next, human('b@example.com', 'sre'), 'deny', { via: 'api', now: at(5) });
      const wins = await Promise.all([store.updateAction(r1.next, 1, r1.audit), other.updateAction(r2.next, 1, r2.audit)]);
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await store.auditSize()).toBe(121);
    });
  });
}

function ids(xs: Array<{ id: string }>): string[] {
  return xs.map((x) => x.id);
}
