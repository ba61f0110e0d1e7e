import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ActionRecord, Requester } from '../../src/domain/action-record.js';
import type { AppError } from '../../src/domain/errors.js';
import { applyReview, cancelAction, escalateAction, expireAction, startExecution } from '../../src/domain/lifecycle.js';
import type { Decision } from '../../src/domain/policy-types.js';
import type { ActionQuery, Store } from '../../src/ports/store.js';
import type { ConformanceContext } from './store-conformance.js';
import { agentA, agentB, allow, at, deny, HOUR, human, insert, newAction, range, rejectionOf, request, review, RUNNER } from './store-fixtures.js';

const ids = (xs: ActionRecord[]): string[] => xs.map((x) => x.id);

/** Newest first: (createdAt, id) descending. */
function newestFirst(xs: ActionRecord[]): ActionRecord[] {
  return [...xs].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

async function pages(store: Store, q: Omit<ActionQuery, 'limit' | 'before'>, size: number): Promise<ActionRecord[]> {
  const out: ActionRecord[] = [];
  for (let cursor: ActionRecord | undefined, guard = 0; guard < 1000; guard++) {
    const page = await store.listActions({ ...q, limit: size, ...(cursor ? { before: { createdAt: cursor.createdAt, id: cursor.id } } : {}) });
    expect(page.length).toBeLessThanOrEqual(size);
    out.push(...page);
    if (page.length < size) return out;
    cursor = page.at(-1);
  }
  throw new Error('pagination does not end');
}

/** Twenty actions over a few instants (several share one), two requesters, three outcomes; ids in no particular order. */
async function seed(store: Store): Promise<ActionRecord[]> {
  const out: ActionRecord[] = [];
  for (const i of range(20)) {
    const requester: Requester = i % 2 ? agentB : agentA;
    const decision: Decision = i % 3 === 0 ? allow() : i % 3 === 1 ? review({ approvers: [i % 2 ? 'group:sre' : 'group:sec'] }) : deny();
    const t = newAction({ id: `x${randomBytes(6).toString('hex')}`, requester, decision, now: at(Math.floor(i / 3) * 1000) });
    out.push(await insert(store, t));
  }
  return out;
}

export function describeQueries(ctx: ConformanceContext): void {
  describe('listing', () => {
    it('lists newest first, ties by id, and honours the limit', async () => {
      const all = await seed(ctx.store);
      expect(ids(await ctx.store.listActions({ limit: 100 }))).toEqual(ids(newestFirst(all)));
      expect(ids(await ctx.store.listActions({ limit: 5 }))).toEqual(ids(newestFirst(all).slice(0, 5)));
      expect(await ctx.store.listActions({ limit: 0 })).toEqual([]);
    });

    it('paginates on (createdAt, id) without duplicates or gaps, across equal timestamps', async () => {
      const all = await seed(ctx.store);
      for (const size of [1, 2, 3, 7, 20]) {
        expect(ids(await pages(ctx.store, {}, size))).toEqual(ids(newestFirst(all)));
      }
    });

    it('filters by status and by requester, alone and together', async () => {
      const all = await seed(ctx.store);
      const pick = (f: (a: ActionRecord) => boolean) => ids(newestFirst(all.filter(f)));
      expect(ids(await ctx.store.listActions({ status: ['pending'], limit: 100 }))).toEqual(pick((a) => a.status === 'pending'));
      expect(ids(await ctx.store.listActions({ status: ['approved', 'denied'], limit: 100 }))).toEqual(pick((a) => a.status !== 'pending'));
      expect(ids(await ctx.store.listActions({ requesterId: agentB.id, limit: 100 }))).toEqual(pick((a) => a.requester.id === agentB.id));
      expect(ids(await pages(ctx.store, { requesterId: agentA.id, status: ['pending', 'denied'] }, 2))).toEqual(
        pick((a) => a.requester.id === agentA.id && a.status !== 'approved'),
      );
      expect(await ctx.store.listActions({ requesterId: 'agent-unknown', limit: 100 })).toEqual([]);
      expect(await ctx.store.listActions({ status: [], limit: 100 })).toEqual([]);
    });

    it('finds actions by audience: approver groups, user refs case-insensitively, escalation targets once escalated, reviewers', async () => {
      const { store } = ctx;
      const sre = await insert(store, newAction({ decision: review({ approvers: ['group:sre'] }), now: at(1) }));
      const carol = await insert(
        store,
        newAction({ decision: review({ approvers: ['user:Carol@Example.com'], escalate: { afterMs: 60_000, to: ['group:leads'] } }), now: at(2) }),
      );
      const both = await insert(store, newAction({ decision: review({ approvers: ['group:sec', 'user:carol@example.com'] }), now: at(3) }));
      await insert(store, newAction({ decision: allow(), now: at(4) }));
      const find = async (audience: string[], status?: ActionQuery['status']) => ids(await store.listActions({ audience, limit: 100, ...(status ? { status } : {}) }));

      expect(await find(['group:sre'])).toEqual([sre.id]);
      expect(await find(['group:SRE'])).toEqual([]);
      expect(await find(['user:CAROL@example.COM'])).toEqual([both.id, carol.id]);
      expect(await find(['group:sec', 'user:carol@example.com'])).toEqual([both.id, carol.id]);
      expect(await find(['group:leads'])).toEqual([]);
      expect(await find([])).toEqual([]);

      const escalated = escalateAction(carol, at(60_002));
      expect(await store.updateAction(escalated.next, carol.version, escalated.audit)).toBe(true);
      expect(await find(['group:leads'])).toEqual([carol.id]);

      const alice = human('Alice@Example.com', 'sre');
      expect(await find(['user:alice@example.com'])).toEqual([]);
      const denied = applyReview(sre, alice, 'deny', { via: 'api', now: at(1000) });
      expect(await store.updateAction(denied.next, sre.version, denied.audit)).toBe(true);
      expect(await find(['user:alice@example.com'])).toEqual([sre.id]);
      expect(await find(['user:alice@example.com'], ['pending'])).toEqual([]);
      expect(await find(['user:alice@example.com', 'group:sec'], ['denied', 'pending'])).toEqual([both.id, sre.id]);
      expect(ids(await pages(store, { audience: ['group:sre', 'group:sec', 'group:leads'] }, 1))).toEqual([both.id, carol.id, sre.id]);
    });

    it('rejects a cursor that is not a timestamp', async () => {
      const e = (await rejectionOf(ctx.store.listActions({ limit: 10, before: { createdAt: 'yesterday', id: 'x' } }))) as AppError;
      expect(e.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('scheduler queries', () => {
    it('finds pending actions due for expiry at, not before, their expiry, comparing instants', async () => {
      const { store } = ctx;
      const soon = await insert(store, newAction({ decision: review({ timeoutMs: HOUR }) }));
      const later = await insert(store, newAction({ decision: review({ timeoutMs: 2 * HOUR }) }));
      await insert(store, newAction({ decision: allow() }));
      const cancelled = newAction({ decision: review({ timeoutMs: HOUR }) });
      await insert(store, cancelled);
      const c = cancelAction(cancelled.next, { type: 'agent', id: agentA.id, owner: agentA.owner!, labels: {} }, at(10));
      expect(await store.updateAction(c.next, 1, c.audit)).toBe(true);

      expect(await store.dueForExpiry(at(HOUR - 1).toISOString(), 10)).toEqual([]);
      expect(ids(await store.dueForExpiry(at(HOUR).toISOString(), 10))).toEqual([soon.id]);
      // The same instant spelled without milliseconds.
      expect(ids(await store.dueForExpiry('2030-01-01T01:00:00Z', 10))).toEqual([soon.id]);
      expect(ids(await store.dueForExpiry(at(3 * HOUR).toISOString(), 10))).toEqual([soon.id, later.id]);
      expect(ids(await store.dueForExpiry(at(3 * HOUR).toISOString(), 1))).toEqual([soon.id]);

      const expired = expireAction(soon, at(HOUR));
      expect(await store.updateAction(expired.next, soon.version, expired.audit)).toBe(true);
      expect(ids(await store.dueForExpiry(at(3 * HOUR).toISOString(), 10))).toEqual([later.id]);
    });

    it('finds pending actions due for escalation at, not before, the escalation time, and forgets them once escalated', async () => {
      const { store } = ctx;
      const first = await insert(store, newAction({ decision: review({ escalate: { afterMs: 60_000, to: ['group:leads'] } }) }));
      const second = await insert(store, newAction({ decision: review({ escalate: { afterMs: 120_000, to: ['group:leads'] } }) }));
      await insert(store, newAction({ decision: review() }));
      const cancelled = newAction({ decision: review({ escalate: { afterMs: 60_000, to: ['group:leads'] } }) });
      await insert(store, cancelled);
      const c = cancelAction(cancelled.next, { type: 'agent', id: agentA.id, owner: agentA.owner!, labels: {} }, at(10));
      expect(await store.updateAction(c.next, 1, c.audit)).toBe(true);

      expect(await store.dueForEscalation(at(59_999).toISOString(), 10)).toEqual([]);
      expect(ids(await store.dueForEscalation(at(60_000).toISOString(), 10))).toEqual([first.id]);
      expect(ids(await store.dueForEscalation(at(HOUR).toISOString(), 10))).toEqual([first.id, second.id]);
      expect(ids(await store.dueForEscalation(at(HOUR).toISOString(), 1))).toEqual([first.id]);

      const e = escalateAction(first, at(60_000));
      expect(await store.updateAction(e.next, first.version, e.audit)).toBe(true);
      expect(ids(await store.dueForEscalation(at(HOUR).toISOString(), 10))).toEqual([second.id]);
    });

    it('lists actions in one status, oldest first, for start-up recovery', async () => {
      const { store } = ctx;
      const a1 = await insert(store, newAction({ now: at(3) }));
      const a2 = await insert(store, newAction({ now: at(1) }));
      const a3 = await insert(store, newAction({ now: at(2) }));
      await insert(store, newAction({ decision: review() }));
      const running = startExecution(a3, at(10), RUNNER);
      expect(await store.updateAction(running.next, a3.version, running.audit)).toBe(true);

      expect(ids(await store.withStatus('approved', 10))).toEqual([a2.id, a1.id]);
      expect(ids(await store.withStatus('approved', 1))).toEqual([a2.id]);
      expect(await store.withStatus('running', 10)).toEqual([running.next]);
      expect(await store.withStatus('failed', 10)).toEqual([]);
      // Decide-mode approvals are final: they are never waiting for the gateway to run them.
      const decided = await insert(store, newAction({ request: request({ mode: 'decide' }), now: at(3) }));
      expect(decided.status).toBe('approved');
      expect(ids(await store.awaitingExecution(10))).toEqual([a2.id, a1.id]);
      expect(ids(await store.withStatus('approved', 10))).toContain(decided.id);
    });

    it('counts the actions in one status up to a cap and dates the oldest, as withStatus lists them', async () => {
      const { store } = ctx;
      expect(await store.countWithStatus('pending', 10)).toEqual({ count: 0, oldestCreatedAtMs: undefined });
      await insert(store, newAction({ decision: review(), now: at(7) }));
      await insert(store, newAction({ decision: review(), now: at(5) }));
      await insert(store, newAction({ decision: review(), now: at(6) }));
      await insert(store, newAction({ now: at(1) }));
      expect(await store.countWithStatus('pending', 10)).toEqual({ count: 3, oldestCreatedAtMs: at(5).getTime() });
      // The cap counts the oldest first: "many" is known without counting them all.
      expect(await store.countWithStatus('pending', 2)).toEqual({ count: 2, oldestCreatedAtMs: at(5).getTime() });
      const pending = await store.withStatus('pending', 10);
      expect(pending.map((a) => Date.parse(a.createdAt))).toEqual([at(5), at(6), at(7)].map((d) => d.getTime()));
    });
  });
}
