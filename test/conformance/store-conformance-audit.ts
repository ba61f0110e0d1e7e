import { describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../src/domain/audit-entry.js';
import { encodeAuditEntry } from '../../src/domain/audit-entry.js';
import { escalateAction } from '../../src/domain/lifecycle.js';
import type { ConformanceContext } from './store-conformance.js';
import { T0, allEntries, at, expectWellFormedLog, insert, newAction, range, request, review } from './store-fixtures.js';

function policyLoaded(version: string): AuditDraft {
  return { type: 'policy.loaded', ts: T0.toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version, rules: 3 } };
}

export function describeAudit(ctx: ConformanceContext): void {
  describe('audit log', () => {
    it('starts empty', async () => {
      expect(await ctx.store.auditSize()).toBe(0);
      expect(await ctx.store.readAudit(0, 10)).toEqual([]);
      expect(await ctx.store.auditSeqsFor('act-none')).toEqual([]);
    });

    it('stores the canonical bytes of each entry as written, with its RFC 9162 leaf hash', async () => {
      const { store } = ctx;
      const t = newAction({ request: request({ justification: 'ünïcode ✓', context: { b: 2, a: [1, { z: null }] } }) });
      await insert(store, t);
      const loaded = await store.appendAudit([policyLoaded('v1')]);
      const drafts = [...t.audit, policyLoaded('v1')];
      const entries = await allEntries(store);
      expect(entries).toHaveLength(3);
      expectWellFormedLog(entries);
      entries.forEach((e, i) => {
        expect(Buffer.from(e.bytes).equals(Buffer.from(encodeAuditEntry(i, drafts[i]!).bytes))).toBe(true);
      });
      expect(loaded).toHaveLength(1);
      expect(loaded[0]!.seq).toBe(2);
      expect(loaded[0]!.actionId).toBeUndefined();
      expect(Buffer.from(loaded[0]!.bytes).equals(Buffer.from(entries[2]!.bytes))).toBe(true);
      expect(Buffer.from(loaded[0]!.leafHash).equals(Buffer.from(entries[2]!.leafHash))).toBe(true);
    });

    it("keeps a transition's entries contiguous and in the order given", async () => {
      const { store } = ctx;
      const other = newAction();
      const t = newAction({
        decision: review(
          { ruleId: 'r-a', escalate: { afterMs: 1000, to: ['group:leads'] } },
          { ruleId: 'r-b', escalate: { afterMs: 1000, to: ['user:head@example.com'] } },
        ),
      });
      await insert(store, t);
      await insert(store, other);
      const e = escalateAction(t.next, at(1000));
      expect(e.audit).toHaveLength(2);
      const extra: AuditDraft = { type: 'action.reviewed', ts: at(1000).toISOString(), actionId: t.next.id, data: { marker: 'third' } };
      expect(await store.updateAction(e.next, 1, [...e.audit, extra])).toBe(true);
      expect(await store.auditSeqsFor(t.next.id)).toEqual([0, 1, 4, 5, 6]);
      const tail = await store.readAudit(4, 7);
      expect(tail.map((x) => [x.type, x.data.ruleId ?? x.data.marker])).toEqual([
        ['action.escalated', 'r-a'],
        ['action.escalated', 'r-b'],
        ['action.reviewed', 'third'],
      ]);
    });

    it('keeps sequence numbers contiguous across many interleaved concurrent writes', async () => {
      const { store } = ctx;
      const inserts = range(40).map((i) => newAction({ decision: i % 3 === 0 ? review({ escalate: { afterMs: 5, to: ['group:leads'] } }) : undefined, now: at(i) }));
      const writes: Array<Promise<unknown>> = [];
      inserts.forEach((t, i) => {
        writes.push(store.insertAction(t.next, t.audit));
        if (i % 4 === 0) writes.push(store.appendAudit(range((i % 3) + 1).map((j) => policyLoaded(`v${i}.${j}`))));
      });
      await Promise.all(writes);
      // Then a second wave: transitions from what was committed, racing new inserts.
      const pending = inserts.filter((t) => t.next.status === 'pending');
      const wave: Array<Promise<unknown>> = [];
      for (const t of pending) {
        const e = escalateAction(t.next, at(1000));
        wave.push(store.updateAction(e.next, 1, [...e.audit, { type: 'action.expired', ts: at(1000).toISOString(), actionId: t.next.id, data: {} }]));
        const n = newAction();
        wave.push(store.insertAction(n.next, n.audit));
      }
      expect(await Promise.all(wave)).not.toContain(false);

      const expected = 40 * 2 + [0, 4, 8, 12, 16, 20, 24, 28, 32, 36].reduce((s, i) => s + (i % 3) + 1, 0) + pending.length * (2 + 2);
      expect(await store.auditSize()).toBe(expected);
      const entries = await allEntries(store);
      expect(entries).toHaveLength(expected);
      expectWellFormedLog(entries);
      // Each write's entries sit together: an action's submitted/decided pair is adjacent.
      for (const t of inserts) {
        const seqs = await store.auditSeqsFor(t.next.id);
        expect(seqs[1]).toBe(seqs[0]! + 1);
      }
    });

    it('reads ranges: half-open, clipped at the end, empty when inverted', async () => {
      const { store } = ctx;
      await store.appendAudit(range(6).map((i) => policyLoaded(`v${i}`)));
      expect((await store.readAudit(2, 5)).map((e) => e.seq)).toEqual([2, 3, 4]);
      expect((await store.readAudit(4, 100)).map((e) => e.seq)).toEqual([4, 5]);
      expect(await store.readAudit(5, 2)).toEqual([]);
      expect(await store.readAudit(6, 9)).toEqual([]);
      expect(await store.appendAudit([])).toEqual([]);
      expect(await store.auditSize()).toBe(6);
    });
  });
}
