// The scheduler's tick on a real (SQLite) store: expiries and escalations found in the
// store, lost races that are not errors, and failures that are. Every test builds its
// own scheduler (Stryker's per-test coverage sees only what runs inside a test).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { HOUR, T0, auditTypes, insertHeld, overriding, recording, tempSqliteStore } from '../../test/support/service-fixtures.js';
import { AppError } from '../domain/errors.js';
import type { Decision } from '../domain/policy-types.js';
import type { Store } from '../ports/store.js';
import type { ExecutionService } from './execution-service.js';
import { createSchedulerService } from './scheduler-service.js';

let store: SqliteStore;
let cleanup: () => Promise<void>;

beforeEach(() => {
  ({ store, cleanup } = tempSqliteStore('scheduler'));
});
afterEach(async () => {
  await cleanup();
});

function review(timeoutMs: number, escalateAfterMs?: number): Decision {
  return {
    outcome: 'review',
    rules: ['needs-sre'],
    policyVersion: 'sha256:policy',
    reason: 'needs review',
    requirements: [
      {
        ruleId: 'needs-sre',
        approvers: ['group:sre'],
        quorum: 1,
        timeoutMs,
        ...(escalateAfterMs !== undefined ? { escalate: { afterMs: escalateAfterMs, to: ['group:leads'] } } : {}),
      },
    ],
  };
}

const idle: ExecutionService = {
  dispatch: () => undefined,
  recover: async () => ({ interrupted: 0, dispatched: 0 }),
  drain: async () => undefined,
  stop: () => undefined,
  runnerFor: () => ({ host: 'h', pid: 1, instance: 'i', leaseUntil: T0.toISOString() }),
  complete: async (a) => a,
  attach: () => () => undefined,
};

function scheduler(at: number, opts: { s?: Store; executions?: ExecutionService } = {}) {
  const notifier = recording();
  const svc = createSchedulerService({ store: opts.s ?? store, clock: { now: () => new Date(T0.getTime() + at) }, notifier, executions: opts.executions ?? idle });
  return { svc, notifier };
}

describe('the scheduler tick', () => {
  it('a pending action past its expiry is expired, counted once, and announced; one not yet due is left alone', async () => {
    const due = await insertHeld(store, review(1000));
    const later = await insertHeld(store, review(HOUR));
    const { svc, notifier } = scheduler(1000);
    const r = await svc.tick();

    expect(r).toEqual({ expired: 1, escalated: 0, interrupted: 0, dispatched: 0 });
    expect((await store.getAction(due.id))!.status).toBe('expired');
    expect((await store.getAction(later.id))!.status).toBe('pending');
    expect(notifier.events.map((e) => [e.type, e.action.id, e.action.status])).toEqual([['changed', due.id, 'expired']]);
    // The next tick finds nothing more to do.
    expect(await scheduler(1000).svc.tick()).toEqual({ expired: 0, escalated: 0, interrupted: 0, dispatched: 0 });
  });

  it('a due escalation is recorded, counted, and announced with the requirements it escalated', async () => {
    const a = await insertHeld(store, review(HOUR, 1000));
    const { svc, notifier } = scheduler(1000);
    const r = await svc.tick();

    expect(r).toEqual({ expired: 0, escalated: 1, interrupted: 0, dispatched: 0 });
    expect(await auditTypes(store, a.id)).toContain('action.escalated');
    expect(notifier.events).toHaveLength(1);
    const e = notifier.events[0]!;
    expect(e.type).toBe('escalated');
    expect(e.type === 'escalated' && e.escalated.map((q) => [q.ruleId, q.escalate!.done])).toEqual([['needs-sre', true]]);
    expect((await store.getAction(a.id))!.review!.requirements[0]!.escalate!.done).toBe(true);
  });

  it('an action listed for escalation with nothing actually due is neither counted, recorded nor announced', async () => {
    const a = await insertHeld(store, review(HOUR, 10 * 60_000));
    const listed = overriding(store, { dueForEscalation: async () => [(await store.getAction(a.id))!] });
    const { svc, notifier } = scheduler(1000, { s: listed });
    const before = await store.auditSize();

    expect((await svc.tick()).escalated).toBe(0);
    expect(await store.auditSize()).toBe(before);
    expect(notifier.events).toEqual([]);
    expect((await store.getAction(a.id))!.version).toBe(a.version);
  });

  it('an expiry that lost its race (the action was decided meanwhile) is not counted and not an error', async () => {
    const a = await insertHeld(store, review(1000));
    await store.updateAction({ ...a, status: 'cancelled', version: a.version + 1 }, a.version, [
      { type: 'action.cancelled', ts: T0.toISOString(), actionId: a.id, actor: { type: 'agent', id: 'agent-a' }, data: {} },
    ]);
    const listed = overriding(store, { dueForExpiry: async () => [a] });
    const { svc, notifier } = scheduler(1000, { s: listed });

    expect((await svc.tick()).expired).toBe(0);
    expect((await store.getAction(a.id))!.status).toBe('cancelled');
    expect(notifier.events).toEqual([]);
  });

  it('an action listed as due that no longer exists is not counted and not an error', async () => {
    const a = await insertHeld(store, review(1000));
    const listed = overriding(store, { dueForExpiry: async () => [{ ...a, id: 'act-gone' }], dueForEscalation: async () => [{ ...a, id: 'act-gone-too' }] });
    const { svc, notifier } = scheduler(1000, { s: listed });
    expect(await svc.tick()).toEqual({ expired: 0, escalated: 0, interrupted: 0, dispatched: 0 });
    expect(notifier.events).toEqual([]);
  });

  it('a storage failure during an expiry is not mistaken for a lost race: the tick fails', async () => {
    await insertHeld(store, review(1000));
    const failing = overriding(store, { updateAction: async () => Promise.reject(new AppError('STORAGE_ERROR', 'disk full')) });
    await expect(scheduler(1000, { s: failing }).svc.tick()).rejects.toThrow('disk full');
  });

  it('a storage failure during an escalation fails the tick too', async () => {
    await insertHeld(store, review(HOUR, 1000));
    const failing = overriding(store, { updateAction: async () => Promise.reject(new AppError('STORAGE_ERROR', 'disk full')) });
    await expect(scheduler(1000, { s: failing }).svc.tick()).rejects.toThrow('disk full');
  });

  it('an error that is not ours is never taken for a lost race, whatever code it carries', async () => {
    await insertHeld(store, review(1000));
    const foreign = Object.assign(new Error('driver said NOT_FOUND'), { code: 'NOT_FOUND' });
    const failing = overriding(store, { updateAction: async () => Promise.reject(foreign) });
    await expect(scheduler(1000, { s: failing }).svc.tick()).rejects.toBe(foreign);
  });

  it('the tick reports what recovery interrupted and dispatched', async () => {
    const executions = { ...idle, recover: async () => ({ interrupted: 2, dispatched: 3 }) };
    expect(await scheduler(0, { executions }).svc.tick()).toEqual({ expired: 0, escalated: 0, interrupted: 2, dispatched: 3 });
  });
});
