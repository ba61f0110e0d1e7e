import { describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../src/domain/audit-entry.js';
import type { AppError } from '../../src/domain/errors.js';
import { applyReview, cancelAction, escalateAction, finishExecution, startExecution } from '../../src/domain/lifecycle.js';
import type { ConformanceContext } from './store-conformance.js';
import {
  HOUR,
  agentA,
  agentB,
  allEntries,
  allow,
  at,
  expectMaskedStorageError,
  expectWellFormedLog,
  human,
  insert,
  newAction,
  newId,
  rejectionOf,
  request,
  review,
  reviewWithRetry,
  RUNNER,
} from './store-fixtures.js';

const alice = human('alice@example.com', 'sre');
const bob = human('bob@example.com', 'sre');
const carol = human('carol@example.com', 'sre', 'leads');

export function describeWrites(ctx: ConformanceContext): void {
  describe('records', () => {
    it('returns a stored action exactly as written, through every transition', async () => {
      const { store } = ctx;
      const t = newAction({
        decision: review({ approvers: ['group:sre'], quorum: 2, escalate: { afterMs: 60_000, to: ['group:leads'] } }),
        idempotencyKey: 'key-1',
        request: request({
          justification: 'refund for ticket #4521 — “urgent” ✓',
          context: { ticket: 4521, tags: ['billing', 'vip'], nested: { ok: true, none: null } },
          onBehalfOf: 'dana@example.com',
          mode: 'execute',
        }),
      });
      await insert(store, t);
      expect(await store.getAction(t.next.id)).toEqual(t.next);

      const escalated = escalateAction(t.next, at(60_000));
      expect(await store.updateAction(escalated.next, 1, escalated.audit)).toBe(true);
      expect(await store.getAction(t.next.id)).toEqual(escalated.next);

      let a = escalated.next;
      for (const who of [alice, carol]) {
        const r = applyReview(a, who, 'approve', { fingerprint: a.fingerprint, comment: 'looks right', via: 'slack', now: at(61_000) });
        expect(await store.updateAction(r.next, a.version, r.audit)).toBe(true);
        a = r.next;
        expect(await store.getAction(a.id)).toEqual(a);
      }
      expect(a.status).toBe('approved');

      const started = startExecution(a, at(62_000), RUNNER);
      expect(await store.updateAction(started.next, a.version, started.audit)).toBe(true);
      const finished = finishExecution(started.next, { ok: true, status: 201, headers: { 'content-type': 'application/json' }, body: { id: 're_1' } }, at(63_000));
      expect(await store.updateAction(finished.next, started.next.version, finished.audit)).toBe(true);
      expect(await store.getAction(a.id)).toEqual(finished.next);
    });

    it('does not know an action that was never stored', async () => {
      expect(await ctx.store.getAction('act-missing')).toBeUndefined();
    });
  });

  describe('idempotent insert', () => {
    it('returns the earlier action for a repeated (requester, key) and writes nothing', async () => {
      const { store } = ctx;
      const first = newAction({ idempotencyKey: 'k1' });
      await insert(store, first);
      const size = await store.auditSize();

      const repeat = newAction({ idempotencyKey: 'k1', request: request({ target: 'other-api' }) });
      const r = await store.insertAction(repeat.next, repeat.audit);
      expect(r).toEqual({ inserted: false, existing: first.next });
      expect(await store.getAction(repeat.next.id)).toBeUndefined();
      expect(await store.auditSize()).toBe(size);
      expect(await store.getByIdempotencyKey(agentA.id, 'k1')).toEqual(first.next);
    });

    it('lets different requesters use the same key', async () => {
      const { store } = ctx;
      const a = newAction({ idempotencyKey: 'shared', requester: agentA });
      const b = newAction({ idempotencyKey: 'shared', requester: agentB });
      await insert(store, a);
      expect((await store.insertAction(b.next, b.audit)).inserted).toBe(true);
      expect(await store.getByIdempotencyKey(agentA.id, 'shared')).toEqual(a.next);
      expect(await store.getByIdempotencyKey(agentB.id, 'shared')).toEqual(b.next);
      expect(await store.getByIdempotencyKey('agent-c', 'shared')).toBeUndefined();
      expect(await store.getByIdempotencyKey(agentA.id, 'other')).toBeUndefined();
    });

    it('inserts exactly one of two concurrent requests with the same key', async () => {
      const { store } = ctx;
      const ts = [newAction({ idempotencyKey: 'race' }), newAction({ idempotencyKey: 'race' }), newAction({ idempotencyKey: 'race' })];
      const results = await Promise.all(ts.map((t) => store.insertAction(t.next, t.audit)));
      const winners = results.filter((r) => r.inserted);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.inserted ? winners[0]!.action : undefined;
      for (const r of results) if (!r.inserted) expect(r.existing).toEqual(winner);
      const entries = await allEntries(store);
      expect(entries).toHaveLength(2);
      expect(new Set(entries.map((e) => e.actionId))).toEqual(new Set([winner!.id]));
    });

    it('never deduplicates actions without a key', async () => {
      const { store } = ctx;
      await insert(store, newAction());
      await insert(store, newAction());
      expect(await store.auditSize()).toBe(4);
    });
  });

  describe('compare-and-swap', () => {
    it('commits the new state and its entries when the version matches', async () => {
      const { store } = ctx;
      const t = newAction({ decision: review() });
      await insert(store, t);
      const c = cancelAction(t.next, { type: 'agent', id: agentA.id, owner: agentA.owner!, labels: {} }, at(5000));
      expect(await store.updateAction(c.next, 1, c.audit)).toBe(true);
      const stored = await store.getAction(t.next.id);
      expect(stored).toEqual(c.next);
      expect(stored?.status).toBe('cancelled');
      expect(stored?.version).toBe(2);
      const entries = await allEntries(store);
      expect(entries.map((e) => e.type)).toEqual(['action.submitted', 'action.decided', 'action.cancelled']);
      expect(await store.auditSeqsFor(t.next.id)).toEqual([0, 1, 2]);
    });

    it('changes nothing and appends nothing when the version is stale', async () => {
      const { store } = ctx;
      const t = newAction({ decision: review({ quorum: 2 }) });
      await insert(store, t);
      const first = applyReview(t.next, alice, 'approve', { fingerprint: t.next.fingerprint, via: 'api', now: at(1000) });
      expect(await store.updateAction(first.next, 1, first.audit)).toBe(true);
      // A second reviewer decided from the version-1 copy: the swap must miss.
      const stale = applyReview(t.next, bob, 'approve', { fingerprint: t.next.fingerprint, via: 'api', now: at(1000) });
      expect(await store.updateAction(stale.next, 1, stale.audit)).toBe(false);
      expect(await store.getAction(t.next.id)).toEqual(first.next);
      expect(await store.auditSize()).toBe(3);
    });

    it('reports a miss for an action that does not exist', async () => {
      const t = newAction();
      expect(await ctx.store.updateAction({ ...t.next, version: 2 }, 1, t.audit)).toBe(false);
      expect(await ctx.store.auditSize()).toBe(0);
    });

    it('lets exactly one of two concurrent updates from the same version win', async () => {
      const { store } = ctx;
      const t = newAction({ decision: review() });
      await insert(store, t);
      const requester = { type: 'agent' as const, id: agentA.id, owner: agentA.owner!, labels: {} };
      const cancel = cancelAction(t.next, requester, at(1000));
      const denial = applyReview(t.next, alice, 'deny', { via: 'api', now: at(1000) });
      const results = await Promise.all([store.updateAction(cancel.next, 1, cancel.audit), store.updateAction(denial.next, 1, denial.audit)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results[0] ? cancel : denial;
      expect(await store.getAction(t.next.id)).toEqual(winner.next);
      const types = (await allEntries(store)).map((e) => e.type);
      expect(types).toEqual(['action.submitted', 'action.decided', winner.audit[0]!.type]);
    });

    it('refuses an update that does not advance the version by one, writing nothing', async () => {
      const { store } = ctx;
      const t = newAction({ decision: review() });
      await insert(store, t);
      const d = applyReview(t.next, alice, 'deny', { via: 'api', now: at(1000) });
      const e = (await rejectionOf(store.updateAction({ ...d.next, version: 1 }, 1, d.audit))) as AppError;
      expect(e.code).toBe('INTERNAL');
      expect(await store.getAction(t.next.id)).toEqual(t.next);
      expect(await store.auditSize()).toBe(2);
    });
  });

  describe('concurrent reviews', () => {
    it('records every concurrent reviewer once and approves at quorum 2', async () => {
      const { store } = ctx;
      const t = newAction({ decision: review({ approvers: ['group:sre'], quorum: 2 }) });
      await insert(store, t);
      await Promise.all([reviewWithRetry(store, t.next.id, alice, 'approve'), reviewWithRetry(store, t.next.id, bob, 'approve')]);
      const a = (await store.getAction(t.next.id))!;
      expect(a.status).toBe('approved');
      expect(a.version).toBe(3);
      expect(a.review!.reviews.map((r) => r.reviewer).sort()).toEqual([alice.id, bob.id]);
      const reviewed = (await allEntries(store)).filter((e) => e.type === 'action.reviewed');
      expect(reviewed.map((e) => e.actor?.id).sort()).toEqual([alice.id, bob.id]);
    });

    it('records exactly quorum reviewers when more race, and tells the others it is closed', async () => {
      const { store } = ctx;
      const t = newAction({ decision: review({ approvers: ['group:sre'], quorum: 3 }) });
      await insert(store, t);
      const humans = ['h1', 'h2', 'h3', 'h4', 'h5'].map((n) => human(`${n}@example.com`, 'sre'));
      const results = await Promise.allSettled(humans.map((h) => reviewWithRetry(store, t.next.id, h, 'approve')));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as AppError).code).toBe('NOT_PENDING');
      const a = (await store.getAction(t.next.id))!;
      expect(a.status).toBe('approved');
      const reviewers = a.review!.reviews.map((r) => r.reviewer);
      expect(new Set(reviewers).size).toBe(3);
      const logged = (await allEntries(store)).filter((e) => e.type === 'action.reviewed').map((e) => e.actor?.id);
      expect(logged.sort()).toEqual([...reviewers].sort());
    });

    it('records the same human reviewing twice at once only once', async () => {
      const { store } = ctx;
      const t = newAction({ decision: review({ approvers: ['group:sre'], quorum: 2 }) });
      await insert(store, t);
      const results = await Promise.allSettled([reviewWithRetry(store, t.next.id, alice, 'approve'), reviewWithRetry(store, t.next.id, alice, 'approve')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((refused.reason as AppError).code).toBe('ALREADY_REVIEWED');
      const a = (await store.getAction(t.next.id))!;
      expect(a.status).toBe('pending');
      expect(a.review!.reviews).toHaveLength(1);
      expect((await allEntries(store)).filter((e) => e.type === 'action.reviewed')).toHaveLength(1);
    });
  });

  describe('failures', () => {
    it('rejects a failing write alone with a masked STORAGE_ERROR; concurrent writes commit', async () => {
      const { store } = ctx;
      const first = newAction();
      await insert(store, first);
      const before = newAction();
      const duplicate = newAction({ id: first.next.id, request: request({ target: 'other-api' }) });
      const after = newAction({ decision: review(), now: at(HOUR) });
      const [ok1, failed, ok2] = await Promise.allSettled([
        store.insertAction(before.next, before.audit),
        store.insertAction(duplicate.next, duplicate.audit),
        store.insertAction(after.next, after.audit),
      ]);
      expect(ok1.status).toBe('fulfilled');
      expect(ok2.status).toBe('fulfilled');
      expect(failed.status).toBe('rejected');
      expectMaskedStorageError((failed as PromiseRejectedResult).reason);
      expect(await store.getAction(first.next.id)).toEqual(first.next);
      expect(await store.getAction(before.next.id)).toEqual(before.next);
      expect(await store.getAction(after.next.id)).toEqual(after.next);
      const entries = await allEntries(store);
      expectWellFormedLog(entries);
      expect(entries.map((e) => e.actionId)).toEqual([first, first, before, before, after, after].map((t) => t.next.id));
    });

    it('writes nothing of an insert or update whose audit entries cannot be written; concurrent writes commit', async () => {
      const { store } = ctx;
      const pending = newAction({ decision: review() });
      await insert(store, pending);
      // A BigInt has no JSON form: the entry fails after the action row was written.
      const unwritable = (t: { audit: AuditDraft[] }): AuditDraft[] => [...t.audit, { type: 'action.reviewed', ts: at(0).toISOString(), data: { n: 1n } }];
      const bad = newAction();
      const good = newAction();
      const d = applyReview(pending.next, alice, 'deny', { via: 'api', now: at(1000) });
      const [r1, r2, r3] = await Promise.allSettled([
        store.insertAction(bad.next, unwritable(bad)),
        store.updateAction(d.next, 1, unwritable(d)),
        store.insertAction(good.next, good.audit),
      ]);
      expect([r1.status, r2.status, r3.status]).toEqual(['rejected', 'rejected', 'fulfilled']);
      expect(await store.getAction(bad.next.id)).toBeUndefined();
      expect(await store.getAction(pending.next.id)).toEqual(pending.next);
      expect(await store.listActions({ audience: ['user:alice@example.com'], limit: 10 })).toEqual([]);
      const entries = await allEntries(store);
      expectWellFormedLog(entries);
      expect(entries.map((e) => e.actionId)).toEqual([pending, pending, good, good].map((t) => t.next.id));
    });

    it('refuses to insert an action whose version is not 1', async () => {
      const t = newAction();
      const e = (await rejectionOf(ctx.store.insertAction({ ...t.next, version: 2 }, t.audit))) as AppError;
      expect(e.code).toBe('INTERNAL');
      expect(await ctx.store.getAction(t.next.id)).toBeUndefined();
      expect(await ctx.store.auditSize()).toBe(0);
    });

    it('returns the inserted action', async () => {
      const t = newAction({ decision: allow(), id: newId() });
      const r = await ctx.store.insertAction(t.next, t.audit);
      expect(r).toEqual({ inserted: true, action: t.next });
    });
  });
}
