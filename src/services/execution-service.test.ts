// The execution service on a real (SQLite) store: the durable start before the executor,
// the result recorded (with retries over passing storage failures), attached runs, and
// recovery after a crash. Every test builds its own service (Stryker's per-test coverage
// sees only what runs inside a test).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { auditTypes, codeOf, overriding, recording, tempSqliteStore } from '../../test/support/service-fixtures.js';
import type { ActionRecord, Runner } from '../domain/action-record.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import { applyReview, createAction, startExecution } from '../domain/lifecycle.js';
import type { Decision } from '../domain/policy-types.js';
import type { Executor } from '../ports/executor.js';
import type { ProcessInfo } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import { createExecutionService } from './execution-service.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const HOUR = 3_600_000;
const alice: Principal = { type: 'human', id: 'alice@example.com', groups: ['sre'] };
const here: ProcessInfo = { host: 'exec-host', pid: 4242, instance: 'instance-1', isAlive: () => true };

let store: SqliteStore;
let cleanup: () => Promise<void>;

beforeEach(() => {
  ({ store, cleanup } = tempSqliteStore('exec-svc'));
});
afterEach(async () => {
  vi.useRealTimers();
  await cleanup();
});

const decision: Decision = {
  outcome: 'review',
  rules: ['needs-sre'],
  policyVersion: 'sha256:policy',
  reason: 'needs review',
  requirements: [{ ruleId: 'needs-sre', approvers: ['group:sre'], quorum: 1, timeoutMs: HOUR }],
};

async function approved(opts: { mode?: 'execute' | 'decide'; kind?: 'http' | 'sql' } = {}): Promise<ActionRecord> {
  const kind = opts.kind ?? 'http';
  const t = createAction({
    id: `act-${Math.random().toString(36).slice(2)}`,
    request:
      kind === 'http'
        ? { kind, target: 'billing-api', mode: opts.mode ?? 'execute', input: { method: 'POST', path: '/refunds', body: { amount: 4200 } } }
        : { kind, target: 'billing-db', mode: opts.mode ?? 'execute', input: { sql: 'select 1', params: [] } },
    requester: { id: 'agent-a', type: 'agent', owner: 'owner@example.com' },
    decision,
    now: T0,
  });
  const r = await store.insertAction(t.next, t.audit);
  if (!r.inserted) throw new Error('not inserted');
  const a = r.action;
  const rv = applyReview(a, alice, 'approve', { fingerprint: a.fingerprint, via: 'test', now: T0 });
  if (!(await store.updateAction(rv.next, a.version, rv.audit))) throw new Error('not approved');
  return rv.next;
}

/** Marks an approved action running under `runner`, as a process would before it crashed. */
async function runningUnder(a: ActionRecord, runner: Runner): Promise<ActionRecord> {
  const t = startExecution(a, T0, runner);
  if (!(await store.updateAction(t.next, a.version, t.audit))) throw new Error('not started');
  return t.next;
}

function countingExecutor(result: Awaited<ReturnType<Executor['execute']>> = { ok: true, status: 200 }): Executor & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async execute(a) {
      calls.push(a.id);
      return result;
    },
  };
}

/** An executor that holds every call until released. */
function heldExecutor(): Executor & { calls: string[]; release(): void; started: Promise<void> } {
  const calls: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  return {
    calls,
    release,
    started: startedP,
    async execute(a) {
      calls.push(a.id);
      started();
      await gate;
      return { ok: true, status: 200 };
    },
  };
}

function service(opts: { s?: Store; executors?: Record<string, Executor>; at?: () => number; proc?: ProcessInfo; concurrency?: number } = {}) {
  const notifier = recording();
  const errors: Array<{ e: unknown; id: string }> = [];
  const svc = createExecutionService({
    store: opts.s ?? store,
    clock: { now: () => new Date(opts.at ? opts.at() : T0.getTime()) },
    notifier,
    executors: opts.executors ?? {},
    process: opts.proc ?? here,
    maxDurationMs: () => 30_000,
    concurrency: opts.concurrency,
    onError: (e, a) => void errors.push({ e, id: a.id }),
  });
  return { svc, notifier, errors };
}

describe('the execution service', () => {
  it('the runner it records names this process and leases the action for its longest run plus a minute', () => {
    const { svc } = service();
    expect(svc.runnerFor({} as ActionRecord)).toEqual({ host: 'exec-host', pid: 4242, instance: 'instance-1', leaseUntil: new Date(T0.getTime() + 30_000 + 60_000).toISOString() });
  });

  it('a dispatched approved action is marked running durably, run once, and its result recorded and announced', async () => {
    const a = await approved();
    const executor = countingExecutor();
    const { svc, notifier, errors } = service({ executors: { http: executor } });
    svc.dispatch(a);
    await svc.drain();

    expect(executor.calls).toEqual([a.id]);
    const stored = (await store.getAction(a.id))!;
    expect(stored.status).toBe('succeeded');
    expect(stored.result).toMatchObject({ ok: true, status: 200 });
    expect(await auditTypes(store, a.id)).toEqual(expect.arrayContaining(['execution.started', 'execution.finished']));
    expect(notifier.events.map((e) => [e.type, e.action.status])).toEqual([
      ['changed', 'running'],
      ['changed', 'succeeded'],
    ]);
    expect(errors).toEqual([]);
  });

  it('the executor sees a record that is already durably running', async () => {
    const a = await approved();
    let seen: string | undefined;
    const executor: Executor = {
      execute: async (x) => {
        seen = (await store.getAction(x.id))!.status;
        return { ok: true };
      },
    };
    const { svc } = service({ executors: { http: executor } });
    svc.dispatch(a);
    await svc.drain();
    expect(seen).toBe('running');
  });

  it('a decide-mode action is never run by the gateway, even when dispatched', async () => {
    const a = await approved({ mode: 'decide' });
    const executor = countingExecutor();
    const { svc } = service({ executors: { http: executor } });
    svc.dispatch(a);
    await svc.drain();
    expect(executor.calls).toEqual([]);
    expect((await store.getAction(a.id))!.status).toBe('approved');
  });

  it('dispatching an action twice while it runs runs it once', async () => {
    const a = await approved();
    const executor = heldExecutor();
    const { svc } = service({ executors: { http: executor } });
    svc.dispatch(a);
    await executor.started;
    svc.dispatch(a);
    executor.release();
    await svc.drain();
    expect(executor.calls).toEqual([a.id]);
  });

  it('drain waits for every execution in flight', async () => {
    const a = await approved();
    const b = await approved();
    const executor = countingExecutor();
    const { svc } = service({ executors: { http: executor } });
    svc.dispatch(a);
    svc.dispatch(b);
    await svc.drain();
    expect((await store.getAction(a.id))!.status).toBe('succeeded');
    expect((await store.getAction(b.id))!.status).toBe('succeeded');
  });

  it('a dispatched action that is no longer approved (someone else started it) is quietly left alone', async () => {
    const a = await approved();
    await runningUnder(a, { host: 'other', pid: 1, instance: 'other', leaseUntil: new Date(T0.getTime() + HOUR).toISOString() });
    const executor = countingExecutor();
    const { svc, notifier, errors } = service({ executors: { http: executor } });
    svc.dispatch(a);
    await svc.drain();
    expect(executor.calls).toEqual([]);
    expect(errors).toEqual([]);
    expect(notifier.events).toEqual([]);
  });

  it('a failure to mark the action running is reported through onError and the executor is not called', async () => {
    const a = await approved();
    const executor = countingExecutor();
    const failing = overriding(store, { updateAction: async () => Promise.reject(new AppError('STORAGE_ERROR', 'disk full')) });
    const { svc, errors } = service({ s: failing, executors: { http: executor } });
    svc.dispatch(a);
    await svc.drain();
    expect(executor.calls).toEqual([]);
    expect(errors.map((x) => [x.id, isAppError(x.e) && x.e.code])).toEqual([[a.id, 'STORAGE_ERROR']]);
    // Finished: it can be dispatched again.
    const { svc: again } = service({ executors: { http: executor } });
    again.dispatch(a);
    await again.drain();
    expect(executor.calls).toEqual([a.id]);
  });

  it('after an execution failed to record, the same service may dispatch the action again (it is no longer in flight)', async () => {
    const a = await approved();
    const executor = countingExecutor();
    let failures = 1;
    const flaky = overriding(store, {
      updateAction: async (...args: Parameters<Store['updateAction']>) => {
        if (failures-- > 0) throw new AppError('VALIDATION_FAILED', 'refused once');
        return store.updateAction(...args);
      },
    });
    const { svc, errors } = service({ s: flaky, executors: { http: executor } });
    svc.dispatch(a);
    await svc.drain();
    expect(errors).toHaveLength(1);
    svc.dispatch(a);
    await svc.drain();
    expect(executor.calls).toEqual([a.id]);
    expect((await store.getAction(a.id))!.status).toBe('succeeded');
  });

  it('an action of a kind with no executor fails with NO_EXECUTOR, naming the kind', async () => {
    const a = await approved({ kind: 'sql' });
    const { svc } = service({ executors: { http: countingExecutor() } });
    svc.dispatch(a);
    await svc.drain();
    const stored = (await store.getAction(a.id))!;
    expect(stored.status).toBe('failed');
    expect(stored.result).toMatchObject({ ok: false, reason: 'no-executor', error: { code: 'NO_EXECUTOR', message: 'No executor for kind sql' } });
  });

  it('an attached run replaces the executor, once: the detach function is then a no-op', async () => {
    const a = await approved();
    const executor = countingExecutor();
    const { svc } = service({ executors: { http: executor } });
    const attachedCalls: string[] = [];
    svc.attach(a.id, async (running) => {
      attachedCalls.push(`${running.id}:${running.status}`);
      return { ok: true, status: 201 };
    });
    svc.dispatch(a);
    await svc.drain();
    expect(attachedCalls).toEqual([`${a.id}:running`]);
    expect(executor.calls).toEqual([]);
    expect((await store.getAction(a.id))!.result).toMatchObject({ ok: true, status: 201 });
  });

  it('an attached run is used for one execution only', async () => {
    const a = await approved();
    const executor = countingExecutor();
    const { svc } = service({ executors: { http: executor } });
    const attachedCalls: string[] = [];
    svc.attach(a.id, async () => {
      attachedCalls.push(a.id);
      return { ok: true };
    });
    const running = await runningUnder(a, svc.runnerFor(a));
    await svc.complete(running);
    await svc.complete(running).catch(() => undefined);
    expect(attachedCalls).toEqual([a.id]);
    expect(executor.calls).toEqual([a.id]);
  });

  it('a detached action runs on its executor', async () => {
    const a = await approved();
    const executor = countingExecutor();
    const { svc } = service({ executors: { http: executor } });
    const detach = svc.attach(a.id, async () => ({ ok: true }));
    detach();
    svc.dispatch(a);
    await svc.drain();
    expect(executor.calls).toEqual([a.id]);
  });

  it('detaching an older attachment leaves a newer one in place', async () => {
    const a = await approved();
    const executor = countingExecutor();
    const { svc } = service({ executors: { http: executor } });
    const calls: string[] = [];
    const detachOld = svc.attach(a.id, async () => (calls.push('old'), { ok: true }));
    svc.attach(a.id, async () => (calls.push('new'), { ok: true }));
    detachOld();
    svc.dispatch(a);
    await svc.drain();
    expect(calls).toEqual(['new']);
    expect(executor.calls).toEqual([]);
  });

  it('complete runs an action this process marked running and resolves with the recorded result', async () => {
    const a = await approved();
    const executor = countingExecutor({ ok: true, status: 204 });
    const { svc, notifier } = service({ executors: { http: executor } });
    const running = await runningUnder(a, svc.runnerFor(a));
    const done = await svc.complete(running);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ ok: true, status: 204 });
    expect((await store.getAction(a.id))!.status).toBe('succeeded');
    expect(notifier.events.map((e) => [e.type, e.action.status])).toEqual([['changed', 'succeeded']]);
    await svc.drain();
  });

  it('complete refuses an action that is not running, or running in another process, with NOT_PENDING and runs nothing', async () => {
    const a = await approved();
    const b = await approved();
    const executor = countingExecutor();
    const { svc } = service({ executors: { http: executor } });
    expect(await codeOf(svc.complete(a))).toBe('NOT_PENDING');
    const elsewhere = await runningUnder(b, { ...svc.runnerFor(b), instance: 'instance-2' });
    expect(await codeOf(svc.complete(elsewhere))).toBe('NOT_PENDING');
    expect(executor.calls).toEqual([]);
  });

  it('while complete runs, the action counts as in flight: recovery neither interrupts nor re-dispatches it, and drain waits for it', async () => {
    const a = await approved();
    const executor = heldExecutor();
    let now = T0.getTime();
    const { svc } = service({ executors: { http: executor }, at: () => now });
    const running = await runningUnder(a, svc.runnerFor(a));
    const completing = svc.complete(running);
    await executor.started;
    now += 2 * HOUR; // past the lease: recovery would call it gone
    expect(await svc.recover()).toEqual({ interrupted: 0, dispatched: 0 });
    let drained = false;
    const draining = svc.drain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    executor.release();
    await completing;
    await draining;
    expect((await store.getAction(a.id))!.status).toBe('succeeded');
  });

  it('when the run itself throws, complete rejects and the action is no longer in flight', async () => {
    const a = await approved();
    const { svc } = service();
    svc.attach(a.id, async () => Promise.reject(new Error('session lost')));
    const running = await runningUnder(a, svc.runnerFor(a));
    await expect(svc.complete(running)).rejects.toThrow('session lost');
    await svc.drain();
    // No longer in flight: recovery, once the lease is over, interrupts it.
    const { svc: later } = service({ at: () => T0.getTime() + 2 * HOUR });
    expect((await later.recover()).interrupted).toBe(1);
  });

  it('when the result cannot be recorded, complete rejects, onError hears of it, and drain still returns', async () => {
    const a = await approved();
    const executor = countingExecutor();
    const running = await runningUnder(a, { host: 'exec-host', pid: 4242, instance: 'instance-1', leaseUntil: new Date(T0.getTime() + HOUR).toISOString() });
    const failing = overriding(store, { updateAction: async () => Promise.reject(new AppError('VALIDATION_FAILED', 'refused')) });
    const { svc, errors } = service({ s: failing, executors: { http: executor } });
    expect(await codeOf(svc.complete(running))).toBe('VALIDATION_FAILED');
    await svc.drain();
    expect(errors.map((x) => x.id)).toEqual([a.id]);
  });

  it('a passing storage failure while recording the result is retried after a back-off, reading the record afresh', async () => {
    const a = await approved();
    const executor = countingExecutor();
    let failures = 1;
    let reads = 0;
    const flaky = overriding(store, {
      getAction: async (id: string) => (reads++, store.getAction(id)),
      updateAction: async (...args: Parameters<Store['updateAction']>) => {
        if (args[0].status !== 'running' && failures-- > 0) throw new AppError('STORAGE_ERROR', 'busy');
        return store.updateAction(...args);
      },
    });
    const { svc, errors } = service({ s: flaky, executors: { http: executor } });
    svc.dispatch(a);
    await svc.drain();
    expect(errors).toEqual([]);
    expect((await store.getAction(a.id))!.status).toBe('succeeded');
    // start: one read; first finish: the known record; the retry: one read.
    expect(reads).toBe(2);
  });

  it('a storage failure that lasts is retried eight times in all, backing off 200 ms, doubling, at most 5 s apart', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const a = await approved();
    const running = await runningUnder(a, { host: 'exec-host', pid: 4242, instance: 'instance-1', leaseUntil: new Date(T0.getTime() + HOUR).toISOString() });
    const attempts: number[] = [];
    let clock = 0;
    const failing = overriding(store, {
      updateAction: async () => {
        attempts.push(clock);
        throw new AppError('STORAGE_ERROR', 'disk full');
      },
    });
    const { svc } = service({ s: failing, executors: { http: countingExecutor() } });
    const outcome = codeOf(svc.complete(running));
    for (const step of [200, 400, 800, 1600, 3200, 5000, 5000]) {
      await vi.advanceTimersByTimeAsync(step - 1);
      const before = attempts.length;
      clock += step;
      await vi.advanceTimersByTimeAsync(1);
      expect(attempts.length).toBe(before + 1);
    }
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await outcome).toBe('STORAGE_ERROR');
    expect(attempts).toEqual([0, 200, 600, 1400, 3000, 6200, 11200, 16200]);
  });

  it('an error other than storage while recording is not retried', async () => {
    const a = await approved();
    const running = await runningUnder(a, { host: 'exec-host', pid: 4242, instance: 'instance-1', leaseUntil: new Date(T0.getTime() + HOUR).toISOString() });
    let attempts = 0;
    const failing = overriding(store, {
      updateAction: async () => {
        attempts++;
        throw new AppError('VALIDATION_FAILED', 'refused');
      },
    });
    const { svc } = service({ s: failing, executors: { http: countingExecutor() } });
    expect(await codeOf(svc.complete(running))).toBe('VALIDATION_FAILED');
    expect(attempts).toBe(1);
    const plain = overriding(store, {
      updateAction: async () => {
        attempts++;
        throw new Error('not ours');
      },
    });
    const { svc: svc2 } = service({ s: plain, executors: { http: countingExecutor() } });
    await expect(svc2.complete(running)).rejects.toThrow('not ours');
    expect(attempts).toBe(2);
  });

  it('recovery interrupts a running action whose runner is gone, never re-runs it, and says so', async () => {
    const a = await approved();
    await runningUnder(a, { host: 'exec-host', pid: 7, instance: 'dead', leaseUntil: new Date(T0.getTime() + HOUR).toISOString() });
    const executor = countingExecutor();
    const { svc, notifier } = service({ executors: { http: executor }, proc: { ...here, isAlive: (pid) => pid !== 7 } });
    expect(await svc.recover()).toEqual({ interrupted: 1, dispatched: 0 });
    const stored = (await store.getAction(a.id))!;
    expect(stored.status).toBe('failed');
    expect(stored.result).toMatchObject({ reason: 'interrupted', error: { code: 'INTERRUPTED' } });
    expect(executor.calls).toEqual([]);
    expect(notifier.events.map((e) => [e.type, e.action.status])).toEqual([['changed', 'failed']]);
  });

  it('recovery leaves alone a running action whose runner is alive elsewhere', async () => {
    const a = await approved();
    await runningUnder(a, { host: 'other-host', pid: 7, instance: 'other', leaseUntil: new Date(T0.getTime() + HOUR).toISOString() });
    const { svc } = service();
    expect(await svc.recover()).toEqual({ interrupted: 0, dispatched: 0 });
    expect((await store.getAction(a.id))!.status).toBe('running');
  });

  it('recovery that finds the action finished meanwhile (listed running, no longer) counts nothing and does not fail', async () => {
    const a = await approved();
    const running = await runningUnder(a, { host: 'exec-host', pid: 7, instance: 'dead', leaseUntil: T0.toISOString() });
    const { svc: other } = service({ executors: { http: countingExecutor() }, proc: { ...here, instance: 'dead', pid: 7 } });
    await other.complete(running);
    const stale = overriding(store, { withStatus: async () => [running] });
    const { svc, notifier } = service({ s: stale });
    expect(await svc.recover()).toEqual({ interrupted: 0, dispatched: 0 });
    expect((await store.getAction(a.id))!.status).toBe('succeeded');
    expect(notifier.events).toEqual([]);
  });

  it('a storage failure during recovery is not swallowed', async () => {
    const a = await approved();
    await runningUnder(a, { host: 'exec-host', pid: 7, instance: 'dead', leaseUntil: T0.toISOString() });
    const failing = overriding(store, { updateAction: async () => Promise.reject(new AppError('STORAGE_ERROR', 'disk full')) });
    const { svc } = service({ s: failing });
    expect(await codeOf(svc.recover())).toBe('STORAGE_ERROR');
  });

  it('recovery dispatches approved actions never started, and counts them', async () => {
    const a = await approved();
    const b = await approved();
    const executor = countingExecutor();
    const { svc } = service({ executors: { http: executor } });
    expect(await svc.recover()).toEqual({ interrupted: 0, dispatched: 2 });
    await svc.drain();
    expect(executor.calls.sort()).toEqual([a.id, b.id].sort());
  });

  it('recovery does not count or re-dispatch an approved action this process is already starting', async () => {
    const a = await approved();
    const executor = heldExecutor();
    const slowStart = overriding(store, { awaitingExecution: async () => [a] });
    const { svc } = service({ s: slowStart, executors: { http: executor } });
    svc.dispatch(a);
    expect(await svc.recover()).toEqual({ interrupted: 0, dispatched: 0 });
    await executor.started;
    executor.release();
    await svc.drain();
    expect(executor.calls).toEqual([a.id]);
  });
  it('the crash campaign can stop the process just before and just after the executor is called', async () => {
    const a = await approved();
    const order: string[] = [];
    const slot = Symbol.for('countersign.crash-point');
    const g = globalThis as { [slot]?: (name: string) => void };
    g[slot] = (name) => void order.push(name);
    try {
      const executor: Executor = { execute: async () => (order.push('executor'), { ok: true }) };
      const { svc } = service({ executors: { http: executor } });
      svc.dispatch(a);
      await svc.drain();
    } finally {
      delete g[slot];
    }
    expect(order.filter((x) => !x.startsWith('store.'))).toEqual(['execution.before-executor', 'executor', 'execution.after-executor']);
  });

  it('recording the result of a clean run reads nothing more: the running record it wrote is the one it updates', async () => {
    const a = await approved();
    let reads = 0;
    const counting = overriding(store, { getAction: async (id: string) => (reads++, store.getAction(id)) });
    const { svc } = service({ s: counting, executors: { http: countingExecutor() } });
    svc.dispatch(a);
    await svc.drain();
    expect((await store.getAction(a.id))!.status).toBe('succeeded');
    expect(reads).toBe(1); // the start's read
  });

  it('a second dispatch while the first runs, or of a decide-mode action, does not even read the store', async () => {
    const a = await approved();
    const d = await approved({ mode: 'decide' });
    let reads = 0;
    const counting = overriding(store, { getAction: async (id: string) => (reads++, store.getAction(id)) });
    const executor = heldExecutor();
    const { svc } = service({ s: counting, executors: { http: executor } });
    svc.dispatch(d);
    expect(reads).toBe(0);
    svc.dispatch(a);
    await executor.started;
    svc.dispatch(a);
    executor.release();
    await svc.drain();
    expect(reads).toBe(1);
  });

  it('complete refuses a record that is not running even when it names this process, and one with no runner, naming the action', async () => {
    const a = await approved();
    const executor = countingExecutor();
    const { svc } = service({ executors: { http: executor } });
    const mine = svc.runnerFor(a);
    await expect(svc.complete({ ...a, status: 'approved', result: { ok: false, startedAt: T0.toISOString(), runner: mine } })).rejects.toThrow(`action ${a.id} is not running in this process`);
    expect(await codeOf(svc.complete({ ...a, status: 'running' }))).toBe('NOT_PENDING');
    expect(await codeOf(svc.complete({ ...a, status: 'running', result: { ok: false, startedAt: T0.toISOString() } }))).toBe('NOT_PENDING');
    expect(executor.calls).toEqual([]);
  });
});

/** An executor whose calls each wait until released one by one; it records how many ran at once. */
function gatedExecutor(): Executor & { calls: string[]; running: number; most: number; started(n: number): Promise<void>; releaseOne(): void } {
  const gates: Array<() => void> = [];
  const waiting: Array<{ n: number; resolve: () => void }> = [];
  const ex = {
    calls: [] as string[],
    running: 0,
    most: 0,
    started(n: number) {
      return ex.calls.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ n, resolve }));
    },
    releaseOne() {
      gates.shift()!();
    },
    async execute(a: ActionRecord) {
      ex.calls.push(a.id);
      ex.running++;
      ex.most = Math.max(ex.most, ex.running);
      for (const w of waiting.filter((x) => ex.calls.length >= x.n)) w.resolve();
      await new Promise<void>((r) => gates.push(r));
      ex.running--;
      return { ok: true, status: 200 } as const;
    },
  };
  return ex;
}

describe('the execution service with a bounded concurrency', () => {
  it('with a concurrency of 2, five approved actions never have more than 2 executing at once, and each executes exactly once', async () => {
    const actions = [await approved(), await approved(), await approved(), await approved(), await approved()];
    const executor = gatedExecutor();
    const { svc, errors } = service({ executors: { http: executor }, concurrency: 2 });
    for (const a of actions) svc.dispatch(a);
    for (let released = 0; released < actions.length; released++) {
      await executor.started(Math.min(released + 2, actions.length));
      expect(executor.running).toBeLessThanOrEqual(2);
      executor.releaseOne();
    }
    await svc.drain();
    expect(executor.most).toBe(2);
    expect(executor.calls.sort()).toEqual(actions.map((a) => a.id).sort());
    for (const a of actions) expect((await store.getAction(a.id))!.status).toBe('succeeded');
    for (const a of actions) expect((await auditTypes(store, a.id)).filter((t) => t === 'execution.started')).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('an action waiting for a slot is still approved in the store, not running, and starts once a slot frees', async () => {
    const a = await approved();
    const b = await approved();
    const executor = gatedExecutor();
    const { svc, notifier } = service({ executors: { http: executor }, concurrency: 1 });
    svc.dispatch(a);
    svc.dispatch(b);
    await executor.started(1);
    expect(executor.calls).toEqual([a.id]);
    expect((await store.getAction(b.id))!.status).toBe('approved');
    expect(await auditTypes(store, b.id)).not.toContain('execution.started');
    expect(notifier.events.filter((e) => e.action.id === b.id)).toEqual([]);
    executor.releaseOne();
    await executor.started(2);
    expect((await store.getAction(b.id))!.status).toBe('running');
    executor.releaseOne();
    await svc.drain();
    expect((await store.getAction(b.id))!.status).toBe('succeeded');
  });

  it('dispatching an action again while it waits for a slot queues it once, and drain waits for the queue', async () => {
    const a = await approved();
    const b = await approved();
    const executor = gatedExecutor();
    const { svc } = service({ executors: { http: executor }, concurrency: 1 });
    svc.dispatch(a);
    svc.dispatch(b);
    svc.dispatch(b);
    let drained = false;
    const draining = svc.drain().then(() => (drained = true));
    await executor.started(1);
    executor.releaseOne();
    await executor.started(2);
    expect(drained).toBe(false);
    executor.releaseOne();
    await draining;
    expect(executor.calls).toEqual([a.id, b.id]);
  });

  it('once stopped, what runs finishes and is recorded; what waits for a slot stays approved, and nothing new starts', async () => {
    const [a, b, c, d] = [await approved(), await approved(), await approved(), await approved()];
    const executor = gatedExecutor();
    const { svc, errors } = service({ executors: { http: executor }, concurrency: 1 });
    svc.dispatch(a);
    svc.dispatch(b);
    svc.dispatch(c);
    await executor.started(1);
    svc.stop();
    const draining = svc.drain();
    executor.releaseOne();
    await draining;
    svc.dispatch(d);
    expect(await svc.recover()).toEqual({ interrupted: 0, dispatched: 0 });
    await svc.drain();
    expect(executor.calls).toEqual([a.id]);
    expect((await store.getAction(a.id))!.status).toBe('succeeded');
    for (const x of [b, c, d]) {
      expect((await store.getAction(x.id))!.status).toBe('approved');
      expect(await auditTypes(store, x.id)).not.toContain('execution.started');
    }
    expect(errors).toEqual([]);
  });

  it('recovery takes no approved action from the store while executions wait for a slot here, and takes it once the queue empties', async () => {
    const a = await approved();
    const b = await approved();
    const executor = gatedExecutor();
    const { svc } = service({ executors: { http: executor }, concurrency: 1 });
    svc.dispatch(a);
    await executor.started(1);
    const c = await approved();
    svc.dispatch(b);
    expect(await svc.recover()).toEqual({ interrupted: 0, dispatched: 0 });
    expect((await store.getAction(c.id))!.status).toBe('approved');
    executor.releaseOne();
    await executor.started(2);
    expect(await svc.recover()).toEqual({ interrupted: 0, dispatched: 1 });
    executor.releaseOne();
    await executor.started(3);
    executor.releaseOne();
    await svc.drain();
    expect(executor.calls).toEqual([a.id, b.id, c.id]);
  });
});
