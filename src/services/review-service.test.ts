// The review service on a real (SQLite) store: what a review or a cancellation commits,
// what it tells the notifier, and when it hands an action to execution. Every test builds
// its own service (Stryker's per-test coverage sees only what runs inside a test).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { HOUR, T0, codeOf, insertHeld, recording, reviewDecision, tempSqliteStore } from '../../test/support/service-fixtures.js';
import type { ActionRecord } from '../domain/action-record.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import { escalateAction } from '../domain/lifecycle.js';
import { approversCounted } from '../domain/review.js';
import type { CompiledPolicy, Decision } from '../domain/policy-types.js';
import type { Store } from '../ports/store.js';
import type { PolicyService } from './policy-service.js';
import type { GrantCreation } from './review-grants.js';
import { createReviewService } from './review-service.js';

const alice: Principal = { type: 'human', id: 'alice@example.com', groups: ['sre'] };
const bob: Principal = { type: 'human', id: 'bob@example.com', groups: ['sre'] };
const agent: Principal = { type: 'agent', id: 'agent-a', owner: 'owner@example.com', labels: {} };

let store: SqliteStore;
let cleanup: () => Promise<void>;

beforeEach(() => {
  ({ store, cleanup } = tempSqliteStore('review-svc'));
});
afterEach(async () => {
  await cleanup();
});

function service(opts: { at?: number; s?: Store; grants?: GrantCreation } = {}) {
  const notifier = recording();
  const dispatched: ActionRecord[] = [];
  const svc = createReviewService({
    store: opts.s ?? store,
    clock: { now: () => new Date(T0.getTime() + (opts.at ?? 0)) },
    notifier,
    dispatch: (a) => void dispatched.push(a),
    ...(opts.grants ? { grants: opts.grants } : {}),
  });
  return { svc, notifier, dispatched };
}

async function auditTypes(id: string): Promise<string[]> {
  const all = await store.readAudit(0, await store.auditSize());
  return all.filter((e) => e.actionId === id).map((e) => e.type);
}

describe('the review service', () => {
  it('an approval reaching quorum commits, tells the notifier which review it was, and hands the action to execution once', async () => {
    const a = await insertHeld(store, reviewDecision(1));
    const { svc, notifier, dispatched } = service();
    const out = await svc.review(alice, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api', comment: 'ok' });

    expect(out.status).toBe('approved');
    expect((await store.getAction(a.id))!.status).toBe('approved');
    expect(notifier.events).toHaveLength(1);
    const e = notifier.events[0]!;
    expect(e.type).toBe('reviewed');
    expect(e.type === 'reviewed' && e.review).toMatchObject({ reviewer: alice.id, verdict: 'approve', via: 'api', comment: 'ok' });
    expect(e.action.status).toBe('approved');
    expect(dispatched.map((d) => d.id)).toEqual([a.id]);
  });

  it('the notifier is told the latest review, not the first, when a second approval completes the quorum', async () => {
    const a = await insertHeld(store, reviewDecision(2));
    const { svc, notifier, dispatched } = service();
    const first = await svc.review(alice, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api' });
    expect(first.status).toBe('pending');
    expect(dispatched).toEqual([]); // a pending action is not executed
    await svc.review(bob, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'slack' });

    const last = notifier.events[1]!;
    expect(last.type === 'reviewed' && last.review.reviewer).toBe(bob.id);
    expect(last.type === 'reviewed' && last.review.via).toBe('slack');
    expect(dispatched.map((d) => d.id)).toEqual([a.id]);
  });

  it('an approved decide-mode action is not handed to execution: the agent runs it', async () => {
    const a = await insertHeld(store, reviewDecision(1), 'decide');
    const { svc, dispatched } = service();
    const out = await svc.review(alice, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api' });
    expect(out.status).toBe('approved');
    expect(dispatched).toEqual([]);
  });

  it('a denial commits and is never handed to execution', async () => {
    const a = await insertHeld(store, reviewDecision(1));
    const { svc, dispatched } = service();
    const out = await svc.review(alice, a.id, { verdict: 'deny', via: 'api' });
    expect(out.status).toBe('denied');
    expect(dispatched).toEqual([]);
  });

  it('a comment JSON cannot carry (a lone surrogate) is refused with VALIDATION_FAILED and changes nothing', async () => {
    const a = await insertHeld(store, reviewDecision(1));
    const { svc, notifier, dispatched } = service();
    await expect(svc.review(alice, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api', comment: 'bad \uD800' })).rejects.toThrow(/^comment: /);
    expect(await codeOf(svc.review(alice, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api', comment: 'bad \uD800' }))).toBe('VALIDATION_FAILED');
    expect((await store.getAction(a.id))!.status).toBe('pending');
    expect(notifier.events).toEqual([]);
    expect(dispatched).toEqual([]);
  });

  it('a grant asked with a denial is refused with VALIDATION_FAILED and changes nothing', async () => {
    const a = await insertHeld(store, reviewDecision(1));
    const { svc } = service();
    const grant = { ttlMs: HOUR, uses: 1 };
    let err: unknown;
    try {
      await svc.review(alice, a.id, { verdict: 'deny', via: 'api', grant });
    } catch (e) {
      err = e;
    }
    expect(isAppError(err) && err.code).toBe('VALIDATION_FAILED');
    expect((err as Error).message).toBe('body/grant: only an approval can grant');
    expect((await store.getAction(a.id))!.status).toBe('pending');
  });

  it('a grant asked with an approval on a gateway without grants is refused with GRANT_NOT_ALLOWED and changes nothing', async () => {
    const a = await insertHeld(store, reviewDecision(1));
    const { svc, dispatched } = service();
    expect(await codeOf(svc.review(alice, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api', grant: { ttlMs: HOUR, uses: 1 } }))).toBe('GRANT_NOT_ALLOWED');
    expect((await store.getAction(a.id))!.status).toBe('pending');
    expect(dispatched).toEqual([]);
  });

  it('a review of an action past its expiry expires it first: the caller is told NOT_PENDING and the record says expired', async () => {
    const a = await insertHeld(store, reviewDecision(1, 1000));
    const { svc, notifier, dispatched } = service({ at: 1000 });
    expect(await codeOf(svc.review(alice, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api' }))).toBe('NOT_PENDING');

    expect((await store.getAction(a.id))!.status).toBe('expired');
    expect(await auditTypes(a.id)).toContain('action.expired');
    expect(await auditTypes(a.id)).not.toContain('action.reviewed');
    expect(notifier.events.map((e) => [e.type, e.action.status])).toEqual([['changed', 'expired']]);
    expect(dispatched).toEqual([]);
  });

  it('a review a millisecond before the expiry is not expired first and counts', async () => {
    const a = await insertHeld(store, reviewDecision(1, 1000));
    const { svc } = service({ at: 999 });
    const out = await svc.review(alice, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api' });
    expect(out.status).toBe('approved');
    expect(await auditTypes(a.id)).not.toContain('action.expired');
  });

  it('an expiry that loses its race (another replica expired the action first) is not an error: the request itself is answered', async () => {
    const a = await insertHeld(store, reviewDecision(1, 1000));
    await service({ at: 2000 }).svc.cancel(agent, a.id).catch(() => undefined);
    expect((await store.getAction(a.id))!.status).toBe('expired');
    // This replica's first read still saw the action pending and due; by its compare-and-swap it had moved on.
    let reads = 0;
    const stale = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'getAction')
          return async (id: string) => {
            const cur = (await target.getAction(id))!;
            return reads++ === 0 ? { ...cur, status: 'pending', version: 1 } : cur;
          };
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const { svc, notifier } = service({ at: 2000, s: stale });
    // Bob is not the requester: the cancellation's own refusal, not the expiry's NOT_PENDING.
    expect(await codeOf(svc.cancel(bob, a.id))).toBe('NOT_REQUESTER');
    expect(notifier.events).toEqual([]);
  });

  it('a review of an action that does not exist is NOT_FOUND', async () => {
    const { svc } = service();
    expect(await codeOf(svc.review(alice, 'act-missing', { verdict: 'deny', via: 'api' }))).toBe('NOT_FOUND');
  });

  it('the requester cancels a pending action: the record, the audit log and the notifier all say cancelled', async () => {
    const a = await insertHeld(store, reviewDecision(1));
    const { svc, notifier } = service();
    const out = await svc.cancel(agent, a.id);
    expect(out.status).toBe('cancelled');
    expect((await store.getAction(a.id))!.status).toBe('cancelled');
    expect(await auditTypes(a.id)).toContain('action.cancelled');
    expect(notifier.events.map((e) => [e.type, e.action.status])).toEqual([['changed', 'cancelled']]);
  });

  it('a cancellation of an action past its expiry expires it first and is told NOT_PENDING', async () => {
    const a = await insertHeld(store, reviewDecision(1, 1000));
    const { svc, notifier } = service({ at: 5000 });
    expect(await codeOf(svc.cancel(agent, a.id))).toBe('NOT_PENDING');
    expect((await store.getAction(a.id))!.status).toBe('expired');
    expect(notifier.events.map((e) => [e.type, e.action.status])).toEqual([['changed', 'expired']]);
  });

  it('a storage failure while expiring is not mistaken for a lost race: the caller sees it', async () => {
    const a = await insertHeld(store, reviewDecision(1, 1000));
    const failing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'updateAction') return async () => Promise.reject(new Error('disk full'));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const { svc } = service({ at: 5000, s: failing });
    await expect(svc.cancel(agent, a.id)).rejects.toThrow('disk full');
  });
  it('a storage failure while expiring a due action fails the request: it is not cancelled as if it had not expired', async () => {
    const a = await insertHeld(store, reviewDecision(1, 1000));
    let failures = 1;
    const flaky = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'updateAction')
          return async (...args: Parameters<Store['updateAction']>) => {
            if (failures-- > 0) throw new AppError('STORAGE_ERROR', 'busy');
            return target.updateAction(...args);
          };
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const { svc } = service({ at: 5000, s: flaky });
    expect(await codeOf(svc.cancel(agent, a.id))).toBe('STORAGE_ERROR');
    expect((await store.getAction(a.id))!.status).toBe('pending');
  });
});

describe('grants given with approvals', () => {
  const bounds = { maxTtlMs: HOUR, maxUses: 5, scope: [] };
  // Built per test (the store is), so Stryker's per-test coverage sees it.
  function withGrants(at = 0) {
    const compiled = { version: 'sha256:policy', ruleDigest: (id: string) => `sha256:${id}` } as unknown as CompiledPolicy;
    const policy: PolicyService = { current: () => compiled, load: () => Promise.reject(new Error('not used')) };
    return service({ at, grants: { store, policy, grantId: () => 'grant-1' } });
  }

  it('with quorum 2, an approval that asks no grant after one that did approves the action and creates no grant (both must ask)', async () => {
    const d = reviewDecision(2);
    d.requirements[0]!.grants = bounds;
    const a = await insertHeld(store, d, 'decide', { grantScope: {} });
    const { svc } = withGrants();
    await svc.review(alice, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api', grant: { ttlMs: HOUR, uses: 2 } });
    const out = await svc.review(bob, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api' });
    expect(out.status).toBe('approved');
    expect(out.grant).toBeUndefined();
    expect(await store.getGrant('grant-1')).toBeUndefined();
  });

  it('after an escalation, an earlier approval counts only for the rule it was given for: the escalated rule needs its own approver, and a grant only its askers', async () => {
    // Rule two is escalated to the SRE group after Alice's approval. Hers was given for
    // rule one only and does not meet rule two; Bob's (no grant asked) does, and approves
    // the action, so the grant Alice asked for is not created: every quorum needs askers.
    const d: Decision = {
      ...reviewDecision(1),
      rules: ['needs-sre', 'needs-manager'],
      requirements: [
        { ruleId: 'needs-sre', approvers: ['group:sre'], quorum: 1, timeoutMs: HOUR, grants: bounds },
        { ruleId: 'needs-manager', approvers: ['group:managers'], quorum: 1, timeoutMs: HOUR, grants: bounds, escalate: { afterMs: 1000, to: ['group:sre'] } },
      ],
    };
    const a = await insertHeld(store, d, 'decide', { grantScope: {} });
    const first = await withGrants().svc.review(alice, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api', grant: { ttlMs: HOUR, uses: 2 } });
    expect(first.status).toBe('pending');
    const cur = (await store.getAction(a.id))!;
    const esc = escalateAction(cur, new Date(T0.getTime() + 1000));
    expect(esc.next.status).toBe('pending');
    expect(await store.updateAction(esc.next, cur.version, esc.audit)).toBeTruthy();

    const out = await withGrants(2000).svc.review(bob, a.id, { verdict: 'approve', fingerprint: a.fingerprint, via: 'api' });
    expect(out.status).toBe('approved');
    const parties = { requester: out.requester.id, owner: out.requester.owner };
    expect(out.review!.requirements.map((q) => approversCounted(q, out.review!.reviews, out.fingerprint, parties))).toEqual([[alice.id, bob.id], [bob.id]]);
    expect(out.grant).toBeUndefined();
    expect(await store.getGrant('grant-1')).toBeUndefined();
    expect(await auditTypes(a.id)).not.toContain('grant.created');
  });
});
