import type { ActionKind } from '../domain/action.js';
import type { ActionRecord, Runner } from '../domain/action-record.js';
import type { AuditDraft } from '../domain/audit-entry.js';
import { AppError, isAppError } from '../domain/errors.js';
import { finishExecution, interruptExecution, runnerIsGone, startExecution } from '../domain/lifecycle.js';
import type { Clock } from '../ports/clock.js';
import type { Executor } from '../ports/executor.js';
import type { Notifier } from '../ports/notifier.js';
import type { ProcessInfo } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import { mutateAction } from './mutate.js';

export interface ExecutionService {
  /** Runs an approved execute-mode action, at most once, in the background. */
  dispatch(action: ActionRecord): void;
  /** Interrupts running actions whose runner is gone and dispatches approved ones never started. */
  recover(): Promise<{ interrupted: number; dispatched: number }>;
  /** Resolves when every execution started by this process has finished. */
  drain(): Promise<void>;
  /** The runner this process records when it starts an action (see SubmitOptions.inline). */
  runnerFor(action: ActionRecord): Runner;
  /**
   * Runs an action this process already marked running and records the result. With
   * `recorded: 'later'` it resolves with the final record as soon as the executor
   * returns, while the write (one transaction with its audit entries) completes in the
   * background: the caller answers sooner, and a crash before that write leaves the
   * action running, which recovery marks interrupted, never re-run.
   */
  complete(running: ActionRecord, opts?: { recorded?: 'before' | 'later' }): Promise<ActionRecord>;
}

export function createExecutionService(deps: {
  store: Store;
  clock: Clock;
  notifier: Notifier;
  executors: Partial<Record<ActionKind, Executor>>;
  process: ProcessInfo;
  /** Upper bound of one execution, for the runner's lease. */
  maxDurationMs(action: ActionRecord): number;
  onError(e: unknown, action: ActionRecord): void;
  /** Writes a finished inline execution (`recorded: 'later'`); default: at once. See write-coalescer.ts. */
  deferUpdate?: (next: ActionRecord, expectedVersion: number, audit: readonly AuditDraft[]) => Promise<boolean>;
}): ExecutionService {
  const { store, clock, notifier } = deps;
  const inFlight = new Map<string, Promise<void>>();

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
    const executor = deps.executors[running.kind];
    return executor
      ? executor.execute(running)
      : { ok: false, reason: 'no-executor', error: { code: 'NO_EXECUTOR', message: `No executor for kind ${running.kind}` } };
  }

  async function record(id: string, result: Parameters<typeof finishExecution>[1], at: Date): Promise<ActionRecord> {
    const { result: t } = await mutateAction(store, id, (cur) => finishExecution(cur, result, at));
    notifier.notify({ type: 'changed', action: t.next });
    return t.next;
  }

  async function complete(running: ActionRecord): Promise<ActionRecord> {
    return record(running.id, await execute(running), clock.now());
  }

  async function run(action: ActionRecord): Promise<void> {
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
    if (action.mode !== 'execute' || inFlight.has(action.id)) return;
    const p = run(action)
      .catch((e: unknown) => deps.onError(e, action))
      .finally(() => inFlight.delete(action.id));
    inFlight.set(action.id, p);
  }

  return {
    dispatch,
    runnerFor,
    async complete(running, opts = {}) {
      if (running.status !== 'running' || running.result?.runner?.instance !== deps.process.instance) {
        throw new AppError('NOT_PENDING', `action ${running.id} is not running in this process`);
      }
      let done!: () => void;
      inFlight.set(running.id, new Promise<void>((r) => (done = r)));
      try {
        const result = await execute(running);
        const at = clock.now();
        // Only this process's runner finishes this record, so the transition applies to the record held here;
        // if recovery got there first (the CAS misses), record() re-reads and refuses.
        const finished = finishExecution(running, result, at);
        const written =
          opts.recorded === 'later' && deps.deferUpdate
            ? deps.deferUpdate(finished.next, running.version, finished.audit).then((ok) => {
                if (!ok) return record(running.id, result, at);
                notifier.notify({ type: 'changed', action: finished.next });
                return finished.next;
              })
            : record(running.id, result, at);
        const settled = written.then(
          () => undefined,
          (e: unknown) => deps.onError(e, running),
        );
        void settled.finally(() => {
          inFlight.delete(running.id);
          done();
        });
        // The same pure transition the write applies, on the record this process holds (only its runner finishes it).
        if (opts.recorded === 'later') return finished.next;
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
            if (cur.status !== 'running') throw new AppError('NOT_PENDING');
            return interruptExecution(cur, clock.now());
          });
          notifier.notify({ type: 'changed', action: result.next });
          interrupted++;
        } catch (e) {
          if (!(isAppError(e) && e.code === 'NOT_PENDING')) throw e;
        }
      }
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
  };
}
