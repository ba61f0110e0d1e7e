import pLimit from 'p-limit';
import type { ActionKind } from '../domain/action.js';
import type { ActionRecord, Runner } from '../domain/action-record.js';
import type { ExecutorResult } from '../domain/execution-failure.js';
import { AppError, isAppError } from '../domain/errors.js';
import { finishExecution, interruptExecution, runnerIsGone, startExecution } from '../domain/lifecycle.js';
import type { Clock } from '../ports/clock.js';
import type { Executor } from '../ports/executor.js';
import type { Notifier } from '../ports/notifier.js';
import type { ProcessInfo } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import { crashPoint } from '../testing/crash-point.js';
import { mutateAction } from './mutate.js';

const FINISH_ATTEMPTS = 8;

export interface ExecutionService {
  /** Runs an approved execute-mode action, at most once, in the background. */
  dispatch(action: ActionRecord): void;
  /** Interrupts running actions whose runner is gone and dispatches approved ones never started. */
  recover(): Promise<{ interrupted: number; dispatched: number }>;
  /** Resolves when every execution started by this process has finished. */
  drain(): Promise<void>;
  /**
   * For a graceful stop: starts no more executions. Those waiting for a slot stay
   * `approved` in the store, for the next process's (or another replica's) recovery;
   * those running finish and record their results (drain waits for them).
   */
  stop(): void;
  /** The runner this process records when it starts an action (see SubmitOptions.inline). */
  runnerFor(action: ActionRecord): Runner;
  /**
   * Runs an action this process already marked running and records the result; it
   * resolves once the result and its audit entry committed, so that what a caller is
   * told has happened is never lost to a crash.
   */
  complete(running: ActionRecord): Promise<ActionRecord>;
  /**
   * Runs this action, once it starts, with `run` instead of its kind's executor: a way in
   * that holds the session the action belongs to (the wire gateway's upstream connection,
   * inside the client's transaction) runs it there. The returned function detaches it;
   * a detached action runs on its executor as any other.
   */
  attach(actionId: string, run: (running: ActionRecord, signal?: AbortSignal) => Promise<ExecutorResult>): () => void;
}

export function createExecutionService(deps: {
  store: Store;
  clock: Clock;
  notifier: Notifier;
  executors: Partial<Record<ActionKind, Executor>>;
  process: ProcessInfo;
  /** Upper bound of one execution, for the runner's lease. */
  maxDurationMs(action: ActionRecord): number;
  /**
   * Most dispatched executions running at once (`executions.concurrency`); the others
   * wait for a slot still `approved`. Unbounded when absent.
   */
  concurrency?: number | undefined;
  onError(e: unknown, action: ActionRecord): void;
}): ExecutionService {
  const { store, clock, notifier } = deps;
  /** Executions dispatched and not finished: running, or waiting for a slot. */
  const inFlight = new Map<string, Promise<void>>();
  // A bulk approval of thousands would otherwise start thousands of upstream calls in one
  // turn, each with its buffers and its turn on the event loop (docs/reliability.md, many waiters).
  const slot = pLimit(deps.concurrency ?? Number.POSITIVE_INFINITY);
  const attached = new Map<string, (running: ActionRecord) => Promise<ExecutorResult>>();
  let stopped = false;

  function runnerFor(action: ActionRecord): Runner {
    return {
      host: deps.process.host,
      pid: deps.process.pid,
      instance: deps.process.instance,
      leaseUntil: new Date(clock.now().getTime() + deps.maxDurationMs(action) + 60_000).toISOString(),
    };
  }

  /** The executor runs only on a record whose running state is durable. */
  async function execute(running: ActionRecord): Promise<Parameters<typeof finishExecution>[1]> {
    const own = attached.get(running.id);
    if (own) {
      attached.delete(running.id);
      return own(running);
    }
    const executor = deps.executors[running.kind];
    crashPoint('execution.before-executor');
    const result = executor
      ? await executor.execute(running)
      : { ok: false, reason: 'no-executor', error: { code: 'NO_EXECUTOR', message: `No executor for kind ${running.kind}` } };
    crashPoint('execution.after-executor');
    return result;
  }

  async function record(id: string, result: Parameters<typeof finishExecution>[1], at: Date, known?: ActionRecord): Promise<ActionRecord> {
    // The action ran: recording its result must not be lost to a passing storage
    // failure, or recovery would later call it "interrupted". Retry with backoff.
    for (let attempt = 1; ; attempt++) {
      try {
        const { result: t } = await mutateAction(store, id, (cur) => finishExecution(cur, result, at), attempt === 1 ? known : undefined);
        notifier.notify({ type: 'changed', action: t.next });
        return t.next;
      } catch (e) {
        if (!isAppError(e) || e.code !== 'STORAGE_ERROR' || attempt >= FINISH_ATTEMPTS) throw e;
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5000)));
      }
    }
  }

  async function complete(running: ActionRecord): Promise<ActionRecord> {
    return record(running.id, await execute(running), clock.now(), running);
  }

  async function run(action: ActionRecord): Promise<void> {
    // Stopping: a queued action is left approved rather than started now (see stop()).
    if (stopped) return;
    const runner = runnerFor(action);
    let running: ActionRecord;
    try {
      // Durable before the executor is called: this is what makes execution at most once.
      running = (await mutateAction(store, action.id, (cur) => startExecution(cur, clock.now(), runner))).result.next;
    } catch (e) {
      if (isAppError(e) && e.code === 'NOT_PENDING') return; // someone else started it, or it is no longer approved
      throw e;
    }
    notifier.notify({ type: 'changed', action: running });
    await complete(running);
  }

  function dispatch(action: ActionRecord): void {
    if (stopped || action.mode !== 'execute' || inFlight.has(action.id)) return;
    // Waiting for a slot is waiting while approved: the running state is written when the slot is taken.
    const p = slot(() => run(action))
      .catch((e: unknown) => deps.onError(e, action))
      .finally(() => inFlight.delete(action.id));
    inFlight.set(action.id, p);
  }

  return {
    dispatch,
    runnerFor,
    attach(actionId, run) {
      attached.set(actionId, run);
      return () => {
        if (attached.get(actionId) === run) attached.delete(actionId);
      };
    },
    async complete(running) {
      if (running.status !== 'running' || running.result?.runner?.instance !== deps.process.instance) {
        throw new AppError('NOT_PENDING', `action ${running.id} is not running in this process`);
      }
      let done!: () => void;
      inFlight.set(running.id, new Promise<void>((r) => (done = r)));
      try {
        const result = await execute(running);
        const written = record(running.id, result, clock.now(), running);
        void written
          .then(
            () => undefined,
            (e: unknown) => deps.onError(e, running),
          )
          .finally(() => {
            inFlight.delete(running.id);
            done();
          });
        return await written;
      } catch (e) {
        inFlight.delete(running.id);
        done();
        throw e;
      }
    },
    async recover() {
      let interrupted = 0;
      let dispatched = 0;
      for (const a of await store.withStatus('running', 1000)) {
        if (inFlight.has(a.id) || !runnerIsGone(a, clock.now(), deps.process)) continue;
        try {
          const { result } = await mutateAction(store, a.id, (cur) => {
            // A second guard: finishExecution's move() refuses a finished action with NOT_PENDING too (an equivalent mutant).
            if (cur.status !== 'running') throw new AppError('NOT_PENDING');
            return interruptExecution(cur, clock.now());
          });
          notifier.notify({ type: 'changed', action: result.next });
          interrupted++;
        } catch (e) {
          if (!(isAppError(e) && e.code === 'NOT_PENDING')) throw e;
        }
      }
      // With executions already waiting for a slot here, taking more from the store would only
      // lengthen the queue (and read up to 1,000 records every tick): they are taken once it empties.
      if (stopped || slot.pendingCount > 0) return { interrupted, dispatched };
      for (const a of await store.awaitingExecution(1000)) {
        if (inFlight.has(a.id)) continue;
        dispatch(a);
        dispatched++;
      }
      return { interrupted, dispatched };
    },
    async drain() {
      while (inFlight.size) await Promise.allSettled([...inFlight.values()]);
    },
    stop() {
      stopped = true;
    },
  };
}
