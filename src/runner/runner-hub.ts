import { randomUUID } from 'node:crypto';
import type { ActionPreview, ActionRecord } from '../domain/action-record.js';
import type { AuditDraft } from '../domain/audit-entry.js';
import type { ExecutorResult } from '../domain/execution-failure.js';
import { AppError } from '../domain/errors.js';
import { executionFailure } from '../domain/execution-failure.js';
import type { Clock } from '../ports/clock.js';
import type { JobOutcome, QueueEvent, RunnerQueue } from '../ports/runner-queue.js';
import type { Job, RunnerJob, SyncRequest, SyncResponse } from './runner-protocol.js';

/**
 * A runner's result, as stored: the fields an executor result has, of their types, and
 * nothing else (a runner is trusted to run commands, not to shape the record).
 */
function resultOf(raw: unknown): ExecutorResult {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const error = typeof r.error === 'object' && r.error !== null ? (r.error as Record<string, unknown>) : undefined;
  if (typeof r.ok !== 'boolean') return executionFailure('EXECUTION_FAILED', 'the runner sent a malformed result');
  return {
    ok: r.ok,
    ...(typeof r.reason === 'string' ? { reason: r.reason.slice(0, 100) } : {}),
    ...(typeof r.exitCode === 'number' || r.exitCode === null ? { exitCode: r.exitCode } : {}),
    ...(r.body !== undefined ? { body: r.body, bodyEncoding: 'json' as const } : {}),
    ...(r.bodyTruncated === true ? { bodyTruncated: true } : {}),
    ...(error ? { error: { code: String(error.code).slice(0, 64), message: String(error.message).slice(0, 2000) } } : {}),
  };
}

/** What a runner needs of an approved record (runner-protocol.ts). */
export function runnerJobOf(a: ActionRecord): RunnerJob {
  return {
    kind: a.kind,
    target: a.target,
    input: a.input,
    requesterId: a.requester.id,
    fingerprint: a.fingerprint,
    preview: a.preview,
    ...(a.facts ? { facts: a.facts } : {}),
    ...(a.drift ? { drift: a.drift } : {}),
  };
}

export interface RunnerView {
  id: string;
  configured: boolean;
  sessions: Array<{ instance: string; host: string; targets: string[]; connectedAt: string; lastSeen: string; running: number }>;
  lastSeen?: string;
}

export interface RunnerHub {
  execute(action: ActionRecord, signal?: AbortSignal): Promise<ExecutorResult>;
  preview(action: { target: string; input: Record<string, unknown> }): Promise<ActionPreview | undefined>;
  sync(runner: string, req: SyncRequest, closed: AbortSignal): Promise<SyncResponse>;
  list(): Promise<RunnerView[]>;
  close(): void;
}

/** How often waiters look at the queue when no notification came (a lost NOTIFY, another replica). */
const FALLBACK_POLL_MS = 1000;
/** Finished jobs nobody read (their replica died) are dropped after this. */
const KEEP_FINISHED_MS = 60 * 60 * 1000;

/**
 * The gateway's side of its runners. An action reaches here only once it is durably
 * running (the execution service's at-most-once swap); the hub queues it, with its
 * fingerprint, in the runner queue, where exactly one runner of its target takes it,
 * whichever replica that runner polls, and waits for the result. A runner that stops
 * syncing for longer than its lease is gone: what it had taken is reported interrupted,
 * never handed to another runner. A result that comes back after that (a runner
 * reconnecting) is written to the audit log as late, and changes nothing.
 */
export function createRunnerHub(deps: {
  queue: RunnerQueue;
  /** Target → runner ids allowed to run it. */
  targetRunners: ReadonlyMap<string, readonly string[]>;
  configured: readonly string[];
  leaseMs: number;
  claimTimeoutMs: number;
  clock: Clock;
  audit(entries: AuditDraft[]): Promise<unknown>;
  onError(e: unknown): void;
}): RunnerHub {
  const { queue } = deps;
  const now = () => deps.clock.now().getTime();
  /** Open long polls here, woken when jobs are queued. */
  const polls = new Set<() => void>();
  /** Jobs this replica waits for, woken when they settle. */
  const waiters = new Map<string, () => void>();
  let closed = false;

  const unwatch = queue.watch((e: QueueEvent) => {
    if (e.type === 'queued') for (const wake of [...polls]) wake();
    else for (const id of e.jobIds) waiters.get(id)?.();
  });

  const record = (type: AuditDraft['type'], runner: string, data: Record<string, unknown>) => {
    deps.audit([{ type, ts: deps.clock.now().toISOString(), actor: { type: 'system', id: `runner:${runner}` }, data: { runner, ...data } }]).catch(deps.onError);
  };

  // Leases: a session with no sync within its lease is gone, on whichever replica notices
  // first (the queue answers each expired session once). Open polls end within half a
  // lease and renew it, so a polling runner never expires.
  let sweeping = false;
  const sweep = setInterval(
    () => {
      if (sweeping) return;
      sweeping = true;
      queue
        .expire(now() - deps.leaseMs, now() - KEEP_FINISHED_MS)
        .then((gone) => {
          for (const s of gone) record('runner.disconnected', s.runner, { instance: s.instance, host: s.host, reason: 'lease expired', interrupted: s.interrupted });
        })
        .catch(deps.onError)
        .finally(() => (sweeping = false));
    },
    Math.max(100, Math.min(1000, deps.leaseMs / 4)),
  );
  sweep.unref();

  /** Resolves after `ms`, or earlier when `register`ed wake-up is called. */
  function nap(ms: number, register: (wake: () => void) => () => void, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        unregister();
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      const unregister = register(finish);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }

  type Final = Exclude<JobOutcome, { state: 'queued' | 'claimed' }> | { state: 'unclaimed' };

  async function submit(job: Job, target: string): Promise<Final> {
    const claimBy = now() + deps.claimTimeoutMs;
    await queue.enqueue({ job, target, runners: deps.targetRunners.get(target) ?? [], claimBy, createdAt: now() });
    try {
      for (;;) {
        const o = await queue.outcome(job.jobId);
        if (o.state !== 'queued' && o.state !== 'claimed') return o;
        // Nobody took it in time: nothing ran, so it is safe to say so and stop.
        if (o.state === 'queued' && now() >= claimBy && (await queue.withdraw(job.jobId))) return { state: 'unclaimed' };
        if (closed) return { state: 'unknown' };
        const wait = o.state === 'queued' ? Math.min(FALLBACK_POLL_MS, Math.max(10, claimBy - now())) : FALLBACK_POLL_MS;
        await nap(wait, (wake) => {
          waiters.set(job.jobId, wake);
          return () => waiters.delete(job.jobId);
        });
      }
    } finally {
      await queue.forget(job.jobId).catch(deps.onError);
    }
  }

  async function take(runner: string, req: SyncRequest): Promise<Job[]> {
    const jobs = await queue.claim({ runner, instance: req.instance }, req.targets, now(), 100);
    for (const j of jobs) {
      if (j.type === 'execute') record('runner.claimed', runner, { instance: req.instance, host: req.host, actionId: j.actionId, target: j.job.target, fingerprint: j.job.fingerprint });
    }
    return jobs;
  }

  async function touch(runner: string, req: SyncRequest): Promise<boolean> {
    const t = await queue.touch({ instance: req.instance, runner, host: req.host, targets: req.targets }, now());
    if (t.runner !== runner) throw new AppError('RUNNER_INSTANCE_TAKEN', `instance ${req.instance} is another runner's; a runner process picks a fresh instance id at start`);
    return t.created;
  }

  return {
    async execute(action) {
      const jobId = randomUUID();
      const o = await submit({ jobId, type: 'execute', actionId: action.id, job: runnerJobOf(action) }, action.target);
      switch (o.state) {
        case 'unclaimed':
          return executionFailure('CONNECTION_FAILED', `no runner of target ${action.target} took the action within ${Math.round(deps.claimTimeoutMs / 1000)} s; nothing ran`);
        case 'lost':
          return executionFailure('INTERRUPTED', `runner ${o.runner} (${o.host}) stopped answering while it held this; it is not re-run`);
        case 'done':
          return o.result.type === 'execute' ? resultOf(o.result.result) : executionFailure('EXECUTION_FAILED', 'the runner answered with another kind of result');
        case 'withdrawn':
        case 'unknown':
          return executionFailure('INTERRUPTED', 'the gateway stopped waiting for the runner\'s result; it is not re-run');
      }
    },
    async preview(action) {
      const o = await submit({ jobId: randomUUID(), type: 'preview', target: action.target, input: action.input }, action.target);
      // Thrown: the submit path shows a failed preview and asks the reviewers anyway.
      if (o.state === 'unclaimed') throw new Error('no runner took the preview');
      if (o.state !== 'done') throw new Error('the runner did not answer with a preview');
      const r = o.result;
      if (r.type !== 'preview' || r.error) throw new Error(r.type === 'preview' ? r.error : 'wrong result');
      return r.preview ?? undefined;
    },
    async sync(runner, req, signal) {
      if (await touch(runner, req)) record('runner.connected', runner, { instance: req.instance, host: req.host, targets: [...req.targets].sort() });
      const late = new Set(await queue.settle(req.instance, req.results.map((r) => (r.type === 'execute' ? { ...r, result: resultOf(r.result) } : r))));
      for (const r of req.results) {
        // Already reported interrupted (lease) or the gateway restarted: kept for the record, changes nothing.
        if (late.has(r.jobId) && r.type === 'execute') {
          const res = resultOf(r.result);
          record('runner.result-late', runner, { instance: req.instance, actionId: r.actionId, ok: res.ok, ...(res.exitCode !== undefined ? { exitCode: res.exitCode } : {}), ...(res.error ? { error: res.error } : {}) });
        }
      }
      const ack = req.results.map((r) => r.jobId);
      await queue.dropUnheld({ runner, instance: req.instance, host: req.host }, [...req.running, ...ack], now() - deps.leaseMs);
      let jobs = await take(runner, req);
      if (jobs.length === 0 && req.waitMs > 0) {
        const until = now() + Math.min(req.waitMs, deps.leaseMs / 2);
        while (jobs.length === 0 && !signal.aborted && !closed && now() < until) {
          await nap(
            Math.min(FALLBACK_POLL_MS, until - now()),
            (wake) => {
              polls.add(wake);
              return () => polls.delete(wake);
            },
            signal,
          );
          // A poll whose connection closed takes nothing: the job would be lost on the way.
          if (signal.aborted || closed) break;
          jobs = await take(runner, req);
        }
        if (!signal.aborted) await touch(runner, req);
      }
      return { jobs, ack, leaseMs: deps.leaseMs, runner };
    },
    async list() {
      const [sessions, seen] = await Promise.all([queue.sessions(), queue.lastSeen()]);
      const ids = new Set([...deps.configured, ...sessions.map((s) => s.runner)]);
      return [...ids].sort().map((id) => {
        const last = seen.get(id);
        return {
          id,
          configured: deps.configured.includes(id),
          sessions: sessions
            .filter((s) => s.runner === id)
            .map((s) => ({ instance: s.instance, host: s.host, targets: [...s.targets].sort(), connectedAt: new Date(s.connectedAt).toISOString(), lastSeen: new Date(s.lastSeen).toISOString(), running: s.running })),
          ...(last !== undefined ? { lastSeen: new Date(last).toISOString() } : {}),
        };
      });
    },
    close() {
      closed = true;
      clearInterval(sweep);
      unwatch();
      for (const wake of [...polls, ...waiters.values()]) wake();
    },
  };
}
