// Races on one action between services that each read, decide and compare-and-swap.
// A store wrapper holds the first writes back until every racer has decided on the
// same version, so each test forces the lost compare-and-swap it is about; if
// mutateAction ignored a lost swap and reported success, these tests fail.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { T0, insertHeld, reviewDecision, tempSqliteStore } from '../../test/support/service-fixtures.js';
import type { ActionRecord } from '../domain/action-record.js';
import type { AuditEntry } from '../domain/audit-entry.js';
import { isAppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import { applyReview } from '../domain/lifecycle.js';
import type { Executor } from '../ports/executor.js';
import type { Store } from '../ports/store.js';
import { createExecutionService } from './execution-service.js';
import { createReviewService } from './review-service.js';
import { createSchedulerService } from './scheduler-service.js';

const quiet = { notify: () => undefined };
const alice: Principal = { type: 'human', id: 'alice@example.com', groups: ['sre'] };
const bob: Principal = { type: 'human', id: 'bob@example.com', groups: ['sre'] };
const carol: Principal = { type: 'human', id: 'carol@example.com', groups: ['sre'] };

let store: SqliteStore;
let cleanup: () => Promise<void>;

beforeEach(() => {
  ({ store, cleanup } = tempSqliteStore('race'));
});
afterEach(async () => {
  await cleanup();
});

/**
 * The store, except that the first `racers` compare-and-swaps wait until all of them
 * have been asked: every racer has then read and decided on the same version, and
 * all but one must lose.
 */
function contended(inner: Store, racers: number): Store {
  let waiting: Array<() => void> = [];
  let held = 0;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'updateAction') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: Parameters<Store['updateAction']>) => {
        if (held < racers) {
          held++;
          await new Promise<void>((release) => {
            waiting.push(release);
            if (waiting.length === racers) {
              for (const r of waiting) r();
              waiting = [];
            }
          });
        }
        return target.updateAction(...args);
      };
    },
  });
}

async function approved(): Promise<ActionRecord> {
  const a = await insertHeld(store, reviewDecision(1));
  const t = applyReview(a, alice, 'approve', { fingerprint: a.fingerprint, via: 'test', now: T0 });
  if (!(await store.updateAction(t.next, a.version, t.audit))) throw new Error('not approved');
  return t.next;
}

async function entriesOf(id: string): Promise<AuditEntry[]> {
  const all = await store.readAudit(0, await store.auditSize());
  return all.filter((e) => e.actionId === id);
}

function countingExecutor(): Executor & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async execute(a) {
      calls.push(a.id);
      return { ok: true, status: 200 };
    },
  };
}

function executionService(s: Store, executor: Executor, instance: string, clock = { now: () => T0 }) {
  return createExecutionService({
    store: s,
    clock,
    notifier: quiet,
    executors: { http: executor },
    process: { host: 'race-host', pid: 4242, instance, isAlive: () => true },
    maxDurationMs: () => 60_000,
    onError: (e) => {
      throw e;
    },
  });
}

async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    if (isAppError(e)) return { ok: false, code: e.code };
    throw e;
  }
}

describe('racing services on one action', () => {
  it('two execution services dispatching the same approved action call the executor exactly once', async () => {
    const action = await approved();
    const executor = countingExecutor();
    const shared = contended(store, 2);
    const one = executionService(shared, executor, 'instance-1');
    const two = executionService(shared, executor, 'instance-2');
    one.dispatch(action);
    two.dispatch(action);
    await Promise.all([one.drain(), two.drain()]);

    expect(executor.calls).toEqual([action.id]);
    const stored = (await store.getAction(action.id))!;
    expect(stored.status).toBe('succeeded');
    const types = (await entriesOf(action.id)).map((e) => e.type);
    expect(types.filter((t) => t === 'execution.started')).toHaveLength(1);
    expect(types.filter((t) => t === 'execution.finished')).toHaveLength(1);
  });

  it('two start-up recoveries racing over the same approved action call the executor exactly once', async () => {
    const action = await approved();
    const executor = countingExecutor();
    const shared = contended(store, 2);
    const one = executionService(shared, executor, 'instance-1');
    const two = executionService(shared, executor, 'instance-2');
    const [r1, r2] = await Promise.all([one.recover(), two.recover()]);
    await Promise.all([one.drain(), two.drain()]);

    expect(r1.dispatched + r2.dispatched).toBe(2); // both saw it waiting; only one may run it
    expect(executor.calls).toEqual([action.id]);
    expect((await store.getAction(action.id))!.status).toBe('succeeded');
  });

  it('an approval and a denial racing on a quorum of one: one wins, the other is told NOT_PENDING, and the record agrees with the winner', async () => {
    const action = await insertHeld(store, reviewDecision(1));
    const executor = countingExecutor();
    const shared = contended(store, 2);
    const executions = executionService(store, executor, 'instance-1');
    const reviews = createReviewService({ store: shared, clock: { now: () => T0 }, notifier: quiet, dispatch: (a) => executions.dispatch(a) });
    const results = await Promise.all([
      settle(reviews.review(alice, action.id, { verdict: 'approve', fingerprint: action.fingerprint, via: 'test' })),
      settle(reviews.review(bob, action.id, { verdict: 'deny', via: 'test' })),
    ]);
    await executions.drain();

    const won = results.filter((r) => r.ok);
    const lost = results.filter((r) => !r.ok);
    expect(won).toHaveLength(1);
    expect(lost).toEqual([{ ok: false, code: 'NOT_PENDING' }]);
    const winner = won[0]!.ok ? won[0]!.value : undefined;
    const stored = (await store.getAction(action.id))!;
    expect(stored.review!.reviews).toHaveLength(1);
    expect(stored.review!.reviews[0]!.reviewer).toBe(winner!.review!.reviews[0]!.reviewer);
    expect((await entriesOf(action.id)).filter((e) => e.type === 'action.reviewed')).toHaveLength(1);
    // The approval executes only if it is the one that committed.
    expect(executor.calls).toEqual(stored.status === 'succeeded' ? [action.id] : []);
    expect(['succeeded', 'denied']).toContain(stored.status);
  });

  it('two approvals racing for a quorum of two both count, and the action is approved and run once', async () => {
    const action = await insertHeld(store, reviewDecision(2));
    const executor = countingExecutor();
    const shared = contended(store, 2);
    const executions = executionService(store, executor, 'instance-1');
    const reviews = createReviewService({ store: shared, clock: { now: () => T0 }, notifier: quiet, dispatch: (a) => executions.dispatch(a) });
    const [first, second] = await Promise.all([
      reviews.review(bob, action.id, { verdict: 'approve', fingerprint: action.fingerprint, via: 'test' }),
      reviews.review(carol, action.id, { verdict: 'approve', fingerprint: action.fingerprint, via: 'test' }),
    ]);
    await executions.drain();

    const stored = (await store.getAction(action.id))!;
    expect(stored.review!.reviews.map((r) => r.reviewer).sort()).toEqual([bob.id, carol.id]);
    expect([first.status, second.status].sort()).toEqual(['approved', 'pending']);
    expect(stored.status).toBe('succeeded');
    expect(executor.calls).toEqual([action.id]);
  });

  it('an expiry racing an approval: exactly one of them commits, and what each caller is told matches the record', async () => {
    const action = await insertHeld(store, reviewDecision(1, 1000));
    const executor = countingExecutor();
    const shared = contended(store, 2);
    const executions = executionService(store, executor, 'instance-1');
    // Two replicas whose clocks disagree by a second: for the scheduler's the action is due,
    // for the reviewer's it is not yet.
    const reviews = createReviewService({ store: shared, clock: { now: () => new Date(T0.getTime() + 999) }, notifier: quiet, dispatch: (a) => executions.dispatch(a) });
    const replica = executionService(store, executor, 'instance-2', { now: () => new Date(T0.getTime() + 1000) });
    const scheduler = createSchedulerService({ store: shared, clock: { now: () => new Date(T0.getTime() + 1000) }, notifier: quiet, executions: replica });
    const [approval, tick] = await Promise.all([
      settle(reviews.review(alice, action.id, { verdict: 'approve', fingerprint: action.fingerprint, via: 'test' })),
      scheduler.tick(),
    ]);
    await Promise.all([executions.drain(), replica.drain()]);

    const stored = (await store.getAction(action.id))!;
    const types = (await entriesOf(action.id)).map((e) => e.type);
    if (stored.status === 'expired') {
      expect(tick.expired).toBe(1);
      expect(approval).toEqual({ ok: false, code: 'NOT_PENDING' });
      expect(types).not.toContain('action.reviewed');
      expect(executor.calls).toEqual([]);
    } else {
      expect(stored.status).toBe('succeeded');
      expect(tick.expired).toBe(0);
      expect(approval.ok && approval.value.status).toBe('approved');
      expect(types).not.toContain('action.expired');
      expect(executor.calls).toEqual([action.id]);
    }
  });
});
