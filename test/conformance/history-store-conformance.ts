// Conformance suite for the HistoryStore port (ports/history-store.ts): every store that
// implements it runs this unchanged.
import { describe, expect, it } from 'vitest';
import type { HistoryStore } from '../../src/ports/history-store.js';
import type { Store } from '../../src/ports/store.js';
import { agentA, agentB, allow, at, deny, human, insert, newAction, reviewWithRetry, review } from './store-fixtures.js';

export type HistoryTestStore = Store & HistoryStore;

const tally = [
  { counter: 'posts', key: 'agent-a', weight: 2, on: 'allowed' as const },
  { counter: 'runs', key: 'agent-a', weight: 1, on: 'executed' as const },
];

export function describeHistoryStoreConformance(name: string, open: () => Promise<{ store: HistoryTestStore; reopen(): Promise<HistoryTestStore>; cleanup(): Promise<void> }>): void {
  describe(`HistoryStore conformance: ${name}`, () => {
    const withStore = (fn: (s: HistoryTestStore, h: Awaited<ReturnType<typeof open>>) => Promise<void>) => async () => {
      const h = await open();
      try {
        await fn(h.store, h);
      } finally {
        await h.cleanup();
      }
    };

    it('indexes an allowed action\'s hits with its insert, once, and survives a reopen', withStore(async (s, h) => {
      const t = newAction({ decision: allow() });
      t.next.tally = tally;
      await insert(s, t);
      const first = await s.readHits(0, 0, 100);
      expect(first.hits).toEqual([{ actionId: t.next.id, counter: 'posts', key: 'agent-a', weight: 2, atMs: at(0).getTime() }]);
      expect((await s.readHits(first.cursor, 0, 100)).hits).toEqual([]);
      expect((await s.readActed(0, 100)).pairs).toEqual([{ agent: agentA.id, target: t.next.target }]);
      const again = await h.reopen();
      expect((await again.readHits(0, 0, 100)).hits).toHaveLength(1);
    }));

    it('a denied action counts for nothing; a reviewed one from its approval; hits older than `since` are skipped', withStore(async (s) => {
      const denied = newAction({ decision: deny() });
      denied.next.tally = tally;
      await insert(s, denied);
      const pending = newAction({ decision: review({ approvers: ['group:ops'] }), requester: agentB });
      pending.next.tally = [{ counter: 'posts', key: 'agent-b', weight: 1, on: 'allowed' }];
      await insert(s, pending);
      expect((await s.readHits(0, 0, 100)).hits).toEqual([]);
      expect((await s.readActed(0, 100)).pairs).toEqual([]);
      await reviewWithRetry(s, pending.next.id, human('ops@example.com', 'ops'), 'approve', at(1000));
      expect((await s.readHits(0, 0, 100)).hits).toEqual([{ actionId: pending.next.id, counter: 'posts', key: 'agent-b', weight: 1, atMs: at(1000).getTime() }]);
      expect((await s.readHits(0, at(1000).getTime() + 1, 100)).hits).toEqual([]);
      expect((await s.readActed(0, 100)).pairs).toEqual([{ agent: agentB.id, target: pending.next.target }]);
    }));

    it('scans actions oldest first within [from, to), page by page, and counts them', withStore(async (s) => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await insert(s, newAction({ now: at(i * 1000) }))).id);
      const range = { fromMs: at(1000).getTime(), toMs: at(4000).getTime() };
      expect(await s.countActions(range.fromMs, range.toMs)).toBe(3);
      const p1 = await s.scanActions({ ...range, limit: 2 });
      expect(p1.map((a) => a.id)).toEqual(ids.slice(1, 3));
      const p2 = await s.scanActions({ ...range, after: { createdAt: p1[1]!.createdAt, id: p1[1]!.id }, limit: 2 });
      expect(p2.map((a) => a.id)).toEqual([ids[3]]);
    }));
  });
}
