// Conformance suite for the GrantStore port (ports/grant-store.ts): every store that
// implements it runs this unchanged.
import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/domain/grant.js';
import { applyReview, createAction } from '../../src/domain/lifecycle.js';
import type { GrantStore } from '../../src/ports/grant-store.js';
import type { DecidedActionStore } from '../../src/ports/history-store.js';
import type { Store } from '../../src/ports/store.js';
import { HOUR, agentA, allEntries, allow, at, expectWellFormedLog, human, insert, newAction, newId, request, review } from './store-fixtures.js';

export type GrantTestStore = Store & GrantStore & DecidedActionStore;

export function grantFor(actionId: string, over: Partial<Grant> = {}): Grant {
  return {
    id: `grt_${newId().slice(4, 20)}`,
    actionId,
    ruleIds: ['rule-1'],
    ruleDigests: { 'rule-1': 'd' },
    policyVersion: 'sha256:policy',
    kind: 'http',
    agent: agentA.id,
    target: 'github',
    scope: {},
    text: 'words',
    approvers: ['group:ops'],
    grantedBy: ['ops@example.com'],
    createdAt: at(0).toISOString(),
    expiresAt: at(HOUR).toISOString(),
    maxUses: 2,
    uses: 0,
    ...over,
  };
}

export function describeGrantStoreConformance(name: string, open: () => Promise<{ store: GrantTestStore; reopen(): Promise<GrantTestStore>; cleanup(): Promise<void> }>): void {
  describe(`GrantStore conformance: ${name}`, () => {
    const withStore = (fn: (s: GrantTestStore) => Promise<void>) => async () => {
      const h = await open();
      try {
        await fn(h.store);
      } finally {
        await h.cleanup();
      }
    };

    async function approvedWithGrant(s: GrantTestStore, over: Partial<Grant> = {}): Promise<Grant> {
      const t = newAction({ decision: review({ approvers: ['group:ops'] }) });
      await insert(s, t);
      const r = applyReview(t.next, human('ops@example.com', 'ops'), 'approve', { fingerprint: t.next.fingerprint, via: 'conformance', now: at(0) });
      const g = grantFor(t.next.id, over);
      const drafts = [...r.audit, { type: 'grant.created' as const, ts: at(0).toISOString(), actionId: t.next.id, data: { grant: g.id } }];
      expect(await s.updateWithGrant(r.next, t.next.version, drafts, g)).toBe(true);
      // A CAS miss writes nothing, not even the grant.
      expect(await s.updateWithGrant(r.next, t.next.version, drafts, grantFor(t.next.id))).toBe(false);
      return g;
    }

    const granted = (now = at(1000)) =>
      createAction({ id: newId(), request: request(), requester: agentA, decision: { ...allow(), grant: { id: 'x', use: 1, policyOutcome: 'review' } }, now });

    it('creates a grant with the approval, and lists, shows and finds it while usable', withStore(async (s) => {
      const g = await approvedWithGrant(s);
      expect(await s.getGrant(g.id)).toEqual(g);
      expect((await s.listGrants({ limit: 10 })).map((x) => x.id)).toEqual([g.id]);
      expect((await s.grantsFor(agentA.id, 'github', at(1000).getTime())).map((x) => x.id)).toEqual([g.id]);
      expect(await s.grantsFor(agentA.id, 'github', at(HOUR).getTime())).toEqual([]);
      expect(await s.grantsFor('agent-b', 'github', at(1000).getTime())).toEqual([]);
      expect((await allEntries(s)).map((e) => e.type)).toContain('grant.created');
    }));

    it("a listing by audience finds a human's grants behind any number of newer ones, by grantor or approver, whatever the address's case", withStore(async (s) => {
      const mine = await approvedWithGrant(s, { grantedBy: ['Alice@Example.com'], approvers: ['group:release', 'user:Dave@Example.com'], createdAt: at(0).toISOString() });
      const others: Grant[] = [];
      for (const i of [1, 2, 3]) others.push(await approvedWithGrant(s, { grantedBy: ['dora@example.com'], approvers: ['group:dba'], createdAt: at(i * 1000).toISOString() }));
      const ids = async (audience: string[], usableAt?: number) => (await s.listGrants({ limit: 2, audience, usableAt })).map((g) => g.id);
      expect(await ids(['user:alice@example.com'])).toEqual([mine.id]);
      expect(await ids(['user:dave@example.com'])).toEqual([mine.id]);
      expect(await ids(['user:eve@example.com', 'group:release'])).toEqual([mine.id]);
      expect(await ids(['group:dba'])).toEqual([others[2]!.id, others[1]!.id]);
      expect(await ids(['group:dba', 'user:alice@example.com'])).toEqual([others[2]!.id, others[1]!.id]);
      expect(await ids(['user:eve@example.com', 'group:marketing', 'group:Release'])).toEqual([]);
      expect(await ids([])).toEqual([]);
      expect((await s.listGrants({ limit: 10 })).map((g) => g.id)).toEqual([...others.map((g) => g.id).reverse(), mine.id]);
      // With usableAt as well: a revoked grant leaves the listing, an unrevoked one stays.
      expect(await s.revokeGrant(mine.id, 'alice@example.com', undefined, at(5000).toISOString())).not.toBe('not-found');
      expect(await ids(['group:release'], at(6000).getTime())).toEqual([]);
      expect(await ids(['group:release'])).toEqual([mine.id]);
      expect(await ids(['group:dba'], at(6000).getTime())).toEqual([others[2]!.id, others[1]!.id]);
    }));

    it('a use commits with the action, compare-and-swap on the use count, never past maxUses', withStore(async (s) => {
      const g = await approvedWithGrant(s);
      const nowMs = at(1000).getTime();
      const u1 = granted();
      expect((await s.insertWithGrant(u1.next, u1.audit, { grantId: g.id, expectedUses: 0, nowMs })).inserted).toBe(true);
      // A stale count (another decision used it first) writes nothing.
      const stale = granted();
      expect(await s.insertWithGrant(stale.next, stale.audit, { grantId: g.id, expectedUses: 0, nowMs })).toEqual({ inserted: false, grantUnavailable: true });
      expect(await s.getAction(stale.next.id)).toBeUndefined();
      const u2 = granted();
      expect((await s.insertWithGrant(u2.next, u2.audit, { grantId: g.id, expectedUses: 1, nowMs })).inserted).toBe(true);
      const u3 = granted();
      expect(await s.insertWithGrant(u3.next, u3.audit, { grantId: g.id, expectedUses: 2, nowMs })).toEqual({ inserted: false, grantUnavailable: true });
      expect((await s.getGrant(g.id))!.uses).toBe(2);
      expectWellFormedLog(await allEntries(s));
    }));

    it('an expired or revoked grant is not used; revoking is audited, once', withStore(async (s) => {
      const g = await approvedWithGrant(s);
      const late = granted(at(HOUR));
      expect(await s.insertWithGrant(late.next, late.audit, { grantId: g.id, expectedUses: 0, nowMs: at(HOUR).getTime() })).toEqual({ inserted: false, grantUnavailable: true });
      const r = await s.revokeGrant(g.id, 'ops@example.com', 'done', at(2000).toISOString());
      expect(r).toMatchObject({ id: g.id, revokedAt: at(2000).toISOString(), revokedBy: 'ops@example.com', revokeReason: 'done' });
      const size = await s.auditSize();
      expect(await s.revokeGrant(g.id, 'ops@example.com', undefined, at(3000).toISOString())).toBe('inactive');
      expect(await s.auditSize()).toBe(size);
      expect(await s.revokeGrant('grt_missing000000', 'ops@example.com', undefined, at(3000).toISOString())).toBe('not-found');
      const after = granted();
      expect(await s.insertWithGrant(after.next, after.audit, { grantId: g.id, expectedUses: 0, nowMs: at(1000).getTime() })).toEqual({ inserted: false, grantUnavailable: true });
      expect(await s.listGrants({ limit: 10, usableAt: at(1000).getTime() })).toEqual([]);
      expect((await allEntries(s)).filter((e) => e.type === 'grant.revoked')).toHaveLength(1);
    }));

    it('an idempotent repeat returns the earlier action and uses nothing', withStore(async (s) => {
      const g = await approvedWithGrant(s);
      const nowMs = at(1000).getTime();
      const a = createAction({ id: newId(), request: request(), requester: agentA, decision: allow(), now: at(1000), idempotencyKey: 'k1' });
      expect((await s.insertWithGrant(a.next, a.audit, { grantId: g.id, expectedUses: 0, nowMs })).inserted).toBe(true);
      const b = createAction({ id: newId(), request: request(), requester: agentA, decision: allow(), now: at(1000), idempotencyKey: 'k1' });
      const r = await s.insertWithGrant(b.next, b.audit, { grantId: g.id, expectedUses: 1, nowMs });
      expect(r.inserted).toBe(false);
      expect('existing' in r && r.existing.id).toBe(a.next.id);
      expect((await s.getGrant(g.id))!.uses).toBe(1);
    }));

    const endedOf = async (s: GrantTestStore, id: string) => (await allEntries(s)).filter((e) => e.type === 'grant.ended' && e.data.grant === id);

    it('a grant ends with one grant.ended entry: at its last use, at its revocation, or when swept, however often', withStore(async (s) => {
      const used = await approvedWithGrant(s);
      for (let i = 0; i < 2; i++) {
        const u = granted();
        expect((await s.insertWithGrant(u.next, u.audit, { grantId: used.id, expectedUses: i, nowMs: at(1000).getTime() })).inserted).toBe(true);
      }
      expect((await endedOf(s, used.id)).map((e) => e.data.reason)).toEqual(['used-up']);
      expect(await s.getGrant(used.id)).toMatchObject({ endReason: 'used-up' });

      const revoked = await approvedWithGrant(s);
      await s.revokeGrant(revoked.id, 'ops@example.com', undefined, at(2000).toISOString());
      expect((await endedOf(s, revoked.id)).map((e) => e.data.reason)).toEqual(['revoked']);

      const timed = await approvedWithGrant(s);
      // Not before its expiry; then once, however many sweeps race.
      expect(await s.endGrants([{ id: timed.id, reason: 'expired', at: at(1000).toISOString() }])).toEqual([]);
      const sweeps = await Promise.all([1, 2, 3].map(() => s.endGrants([{ id: timed.id, reason: 'expired', at: timed.expiresAt }])));
      expect(sweeps.flat()).toEqual([timed.id]);
      expect((await endedOf(s, timed.id)).map((e) => [e.data.reason, e.ts])).toEqual([['expired', timed.expiresAt]]);

      const changed = await approvedWithGrant(s);
      expect(await s.endGrants([{ id: changed.id, reason: 'policy-changed', at: at(1000).toISOString(), rules: ['rule-1'], policyVersion: 'sha256:new' }])).toEqual([changed.id]);
      expect((await endedOf(s, changed.id))[0]!.data).toMatchObject({ reason: 'policy-changed', rules: ['rule-1'] });
      // Ended is final: never used again, not listed as usable, not ended twice (not even by a revocation).
      const u = granted();
      expect(await s.insertWithGrant(u.next, u.audit, { grantId: changed.id, expectedUses: 0, nowMs: at(1000).getTime() })).toEqual({ inserted: false, grantUnavailable: true });
      expect(await s.grantsFor(agentA.id, 'github', at(1000).getTime())).toEqual([]);
      await s.revokeGrant(changed.id, 'ops@example.com', undefined, at(2000).toISOString());
      expect(await endedOf(s, changed.id)).toHaveLength(1);
      expectWellFormedLog(await allEntries(s));
    }));

    it('a decided action is written only if the counters its decision read hold no weight it did not see', withStore(async (s) => {
      const tally = [{ counter: 'exports', key: agentA.id, weight: 1, on: 'allowed' as const }];
      const first = createAction({ id: newId(), request: request(), requester: agentA, decision: allow(), now: at(1000) });
      first.next.tally = tally;
      expect((await s.insertDecided(first.next, first.audit, {})).inserted).toBe(true);
      const reads = (seen: number) => [{ counter: 'exports', key: agentA.id, sinceMs: at(0).getTime() - 1, seen }];
      const stale = createAction({ id: newId(), request: request(), requester: agentA, decision: allow(), now: at(2000) });
      stale.next.tally = tally;
      const size = await s.auditSize();
      expect(await s.insertDecided(stale.next, stale.audit, { reads: reads(0) })).toEqual({ inserted: false, historyChanged: true });
      expect(await s.auditSize()).toBe(size);
      expect(await s.getAction(stale.next.id)).toBeUndefined();
      // Another key, or hits before the window, do not count against it.
      expect(await s.insertDecided(stale.next, stale.audit, { reads: [{ counter: 'exports', key: 'agent-b', sinceMs: 0, seen: 0 }, { counter: 'exports', key: agentA.id, sinceMs: at(1000).getTime(), seen: 0 }] })).toMatchObject({ inserted: true });
      const fresh = createAction({ id: newId(), request: request(), requester: agentA, decision: allow(), now: at(3000) });
      expect(await s.insertDecided(fresh.next, fresh.audit, { reads: reads(2) })).toMatchObject({ inserted: true });
    }));
  });
}
