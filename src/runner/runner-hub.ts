import { randomUUID } from 'node:crypto';
import type { ActionPreview, ActionRecord } from '../domain/action-record.js';
import type { AuditDraft } from '../domain/audit-entry.js';
import type { ExecutorResult } from '../domain/execution-failure.js';
import { executionFailure } from '../domain/execution-failure.js';
import type { Clock } from '../ports/clock.js';
import { jobOf } from '../adapters/command/command-targets.js';
import type { Job, JobResult, SyncRequest, SyncResponse } from './runner-protocol.js';

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

/** One connected runner process. */
interface Session {
  runner: string;
  instance: string;
  host: string;
  targets: Set<string>;
  connectedAt: string;
  lastSeen: number;
  /** Open long polls: while one is open the runner is there, whatever the time. */
  polls: number;
  claimed: Map<string, Pending>;
  wake?: (() => void) | undefined;
}

interface Pending {
  job: Job;
  target: string;
  /** Runner ids allowed to take it (the target's `runner`). */
  runners: readonly string[];
  settle(r: JobResult | { lost: string }): void;
  claimTimer?: NodeJS.Timeout;
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
  list(): RunnerView[];
  close(): void;
}

/**
 * The gateway's side of its runners. An action reaches here only once it is durably
 * running (the execution service's at-most-once swap); the hub hands it to exactly one
 * runner of its target, with its fingerprint, and waits for the result. A runner that
 * stops syncing for longer than its lease is gone: what it had taken is reported
 * interrupted, never handed to another runner. A result that comes back after that
 * (a runner reconnecting) is written to the audit log as late, and changes nothing.
 * The hub is per gateway process: runners connect to the replica that runs the action.
 */
export function createRunnerHub(deps: {
  /** Target → runner ids allowed to run it. */
  targetRunners: ReadonlyMap<string, readonly string[]>;
  configured: readonly string[];
  leaseMs: number;
  claimTimeoutMs: number;
  clock: Clock;
  audit(entries: AuditDraft[]): Promise<unknown>;
  onError(e: unknown): void;
}): RunnerHub {
  const sessions = new Map<string, Session>();
  const queue: Pending[] = [];
  const lastSeenOf = new Map<string, string>();
  const now = () => deps.clock.now();

  const record = (type: AuditDraft['type'], runner: string, data: Record<string, unknown>) => {
    deps.audit([{ type, ts: now().toISOString(), actor: { type: 'system', id: `runner:${runner}` }, data: { runner, ...data } }]).catch(deps.onError);
  };

  function canTake(s: Session, p: Pending): boolean {
    return s.targets.has(p.target) && p.runners.includes(s.runner);
  }

  function enqueue(p: Pending): void {
    queue.push(p);
    for (const s of sessions.values()) if (s.wake && canTake(s, p)) s.wake();
  }

  function drop(p: Pending): void {
    const i = queue.indexOf(p);
    if (i >= 0) queue.splice(i, 1);
  }

  function gone(s: Session, why: string): void {
    sessions.delete(s.instance);
    record('runner.disconnected', s.runner, { instance: s.instance, host: s.host, reason: why, interrupted: [...s.claimed.values()].filter((p) => p.job.type === 'execute').map((p) => (p.job as { actionId: string }).actionId) });
    for (const p of s.claimed.values()) p.settle({ lost: `runner ${s.runner} (${s.host}) stopped answering while it held this; it is not re-run` });
    s.claimed.clear();
  }

  // Leases: a runner with no open poll and no sync within its lease is gone.
  const sweep = setInterval(() => {
    const t = now().getTime();
    for (const s of [...sessions.values()]) if (s.polls === 0 && t - s.lastSeen > deps.leaseMs) gone(s, 'lease expired');
  }, Math.max(100, Math.min(1000, deps.leaseMs / 4)));
  sweep.unref();

  function submit<T>(target: string, make: (jobId: string) => Job, onResult: (r: JobResult | { lost: string } | { unclaimed: true }) => T): Promise<T> {
    const runners = deps.targetRunners.get(target) ?? [];
    return new Promise<T>((resolve) => {
      let done = false;
      const p: Pending = {
        job: make(randomUUID()),
        target,
        runners,
        settle(r) {
          if (done) return;
          done = true;
          clearTimeout(p.claimTimer);
          drop(p);
          resolve(onResult(r));
        },
      };
      // Nobody took it in time: nothing ran, so it is safe to say so and stop.
      p.claimTimer = setTimeout(() => {
        if (queue.includes(p)) {
          drop(p);
          done = true;
          resolve(onResult({ unclaimed: true }));
        }
      }, deps.claimTimeoutMs);
      p.claimTimer.unref();
      enqueue(p);
    });
  }

  function take(s: Session): Job[] {
    const jobs: Job[] = [];
    for (const p of [...queue]) {
      if (!canTake(s, p)) continue;
      drop(p);
      clearTimeout(p.claimTimer);
      s.claimed.set(p.job.jobId, p);
      jobs.push(p.job);
      if (p.job.type === 'execute') record('runner.claimed', s.runner, { instance: s.instance, host: s.host, actionId: p.job.actionId, target: p.target, fingerprint: p.job.job.fingerprint });
    }
    return jobs;
  }

  function accept(s: Session, results: readonly JobResult[]): string[] {
    const ack: string[] = [];
    for (const r of results) {
      ack.push(r.jobId);
      // Only the session that took a job may settle it.
      const p = s.claimed.get(r.jobId);
      if (p) {
        s.claimed.delete(r.jobId);
        p.settle(r.type === 'execute' ? { ...r, result: resultOf(r.result) } : r);
      } else if (r.type === 'execute') {
        // Already reported interrupted (lease) or the gateway restarted: kept for the record, changes nothing.
        record('runner.result-late', s.runner, { instance: s.instance, actionId: r.actionId, ok: r.result.ok, ...(r.result.exitCode !== undefined ? { exitCode: r.result.exitCode } : {}), ...(r.result.error ? { error: r.result.error } : {}) });
      }
    }
    return ack;
  }

  return {
    execute(action) {
      return submit(
        action.target,
        (jobId) => ({ jobId, type: 'execute', actionId: action.id, job: jobOf(action) }),
        (r): ExecutorResult => {
          if ('unclaimed' in r) return executionFailure('CONNECTION_FAILED', `no runner of target ${action.target} took the action within ${Math.round(deps.claimTimeoutMs / 1000)} s; nothing ran`);
          if ('lost' in r) return executionFailure('INTERRUPTED', r.lost);
          return r.type === 'execute' ? r.result : executionFailure('EXECUTION_FAILED', 'the runner answered with another kind of result');
        },
      );
    },
    preview(action) {
      return submit(
        action.target,
        (jobId) => ({ jobId, type: 'preview', target: action.target, input: action.input }),
        (r): ActionPreview | undefined => {
          // Thrown: the submit path shows a failed preview and asks the reviewers anyway.
          if ('unclaimed' in r) throw new Error('no runner took the preview');
          if ('lost' in r) throw new Error(r.lost);
          if (r.type !== 'preview' || r.error) throw new Error(r.type === 'preview' ? r.error : 'wrong result');
          return r.preview ?? undefined;
        },
      );
    },
    async sync(runner, req, closed) {
      let s = sessions.get(req.instance);
      if (s && s.runner !== runner) throw new Error('instance belongs to another runner');
      if (!s) {
        s = { runner, instance: req.instance, host: req.host, targets: new Set(req.targets), connectedAt: now().toISOString(), lastSeen: now().getTime(), polls: 0, claimed: new Map() };
        sessions.set(req.instance, s);
        record('runner.connected', runner, { instance: req.instance, host: req.host, targets: [...s.targets].sort() });
      }
      s.targets = new Set(req.targets);
      s.lastSeen = now().getTime();
      lastSeenOf.set(runner, now().toISOString());
      const ack = accept(s, req.results);
      let jobs = take(s);
      if (jobs.length === 0 && req.waitMs > 0) {
        const session = s;
        session.polls++;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(finish, Math.min(req.waitMs, deps.leaseMs / 2));
          function finish() {
            clearTimeout(timer);
            closed.removeEventListener('abort', finish);
            if (session.wake === finish) session.wake = undefined;
            resolve();
          }
          session.wake = finish;
          closed.addEventListener('abort', finish, { once: true });
        });
        session.polls--;
        session.lastSeen = now().getTime();
        lastSeenOf.set(runner, now().toISOString());
        // A poll whose connection closed takes nothing: the job would be lost on the way.
        jobs = closed.aborted || !sessions.has(session.instance) ? [] : take(session);
      }
      return { jobs, ack, leaseMs: deps.leaseMs, runner };
    },
    list() {
      const ids = new Set([...deps.configured, ...[...sessions.values()].map((s) => s.runner)]);
      return [...ids].sort().map((id) => {
        const mine = [...sessions.values()].filter((s) => s.runner === id);
        const seen = lastSeenOf.get(id);
        return {
          id,
          configured: deps.configured.includes(id),
          sessions: mine.map((s) => ({ instance: s.instance, host: s.host, targets: [...s.targets].sort(), connectedAt: s.connectedAt, lastSeen: new Date(s.lastSeen).toISOString(), running: s.claimed.size })),
          ...(seen ? { lastSeen: seen } : {}),
        };
      });
    },
    close() {
      clearInterval(sweep);
      for (const s of sessions.values()) s.wake?.();
    },
  };
}
