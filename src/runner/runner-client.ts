import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { CommandTargetSettings } from '../adapters/command/command-settings.js';
import { commandTargetSettings } from '../adapters/command/command-settings.js';
import { executeCommand } from '../adapters/command/command-execute.js';
import { computePreview } from '../adapters/command/command-preview-run.js';
import type { LoadedConfig } from '../config/load.js';
import { executionFailure } from '../domain/execution-failure.js';
import { isAppError } from '../domain/errors.js';
import type { Redactor } from '../domain/redact-secrets.js';
import type { Dispatcher } from 'undici';
import { fetch } from 'undici';
import type { Job, JobResult, SyncRequest, SyncResponse } from './runner-protocol.js';
import type { RunnerSql } from './runner-sql.js';
import { createRunnerSql } from './runner-sql.js';

export interface Runner {
  readonly instance: string;
  /** Stops polling; running jobs finish and their results are delivered if the gateway answers in time. */
  stop(): Promise<void>;
}

const POLL_WAIT_MS = 20_000;

/**
 * A runner: inside the target's network, it connects out to the gateway (no inbound
 * port), takes only approved actions of the command and postgres targets its own config serves,
 * checks each one's fingerprint before running it (executeCommand), and holds every
 * result until the gateway acknowledges it, across disconnections. The credentials are
 * in its config only; the gateway never sees them.
 */
export function startRunner(deps: {
  gateway: string;
  /** Its token; optional when it proves its identity with a client certificate only. */
  token?: string | undefined;
  /** The TLS client (mTLS): its certificate, and the CA that signs the gateway's (runner-tls.ts). */
  dispatcher?: Dispatcher | undefined;
  loaded: LoadedConfig;
  redactor: Redactor;
  logger: Logger;
}): Runner {
  const { config } = deps.loaded;
  const targets = new Map<string, CommandTargetSettings>();
  for (const [name, t] of Object.entries(config.targets)) {
    if (t.kind === 'command') targets.set(name, commandTargetSettings(name, t));
  }
  const sql: RunnerSql | undefined = createRunnerSql(config);
  const served = [...targets.keys(), ...(sql?.targets ?? [])];
  const instance = randomUUID();
  const host = hostname();
  const url = `${deps.gateway.replace(/\/$/, '')}/v1/runner/sync`;
  const held = new Map<string, JobResult>();
  const running = new Set<string>();
  const work = new Set<Promise<void>>();
  const stopping = new AbortController();
  let connected = false;
  let runnerId = 'runner';
  const log = deps.logger.child({ instance });

  async function sync(waitMs: number): Promise<SyncResponse> {
    const body: SyncRequest = { instance, host, targets: served, running: [...running], results: [...held.values()], waitMs };
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...(deps.token ? { authorization: `Bearer ${deps.token}` } : {}), 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: waitMs > 0 ? stopping.signal : null,
      ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
    });
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw Object.assign(new Error(`gateway answered ${res.status}: ${text.slice(0, 300)}`), { status: res.status });
    }
    const r = (await res.json()) as SyncResponse;
    for (const id of r.ack) held.delete(id);
    runnerId = r.runner;
    if (!connected) {
      connected = true;
      log.info({ gateway: deps.gateway, runner: r.runner, targets: served, held: held.size }, 'runner connected');
    }
    for (const job of r.jobs) start(job);
    return r;
  }

  async function handle(job: Job): Promise<JobResult> {
    if (job.type === 'preview') {
      if (sql?.serves(job.target)) {
        try {
          return { jobId: job.jobId, type: 'preview', preview: await sql.preview(job.target, job.input) };
        } catch (e) {
          return { jobId: job.jobId, type: 'preview', preview: null, error: isAppError(e) ? e.code : 'the preview failed' };
        }
      }
      const t = targets.get(job.target);
      if (!t) return { jobId: job.jobId, type: 'preview', preview: null, error: `this runner does not serve ${job.target}` };
      try {
        return { jobId: job.jobId, type: 'preview', preview: (await computePreview(t, deps.redactor, job.input)) ?? null };
      } catch (e) {
        return { jobId: job.jobId, type: 'preview', preview: null, error: isAppError(e) ? e.code : 'the preview failed' };
      }
    }
    const t = targets.get(job.job.target);
    const result =
      job.job.kind === 'sql' && sql?.serves(job.job.target)
        ? await sql.execute(job.actionId, job.job)
        : t && job.job.kind === 'command'
          ? await executeCommand(t, deps.redactor, job.job, runnerId)
          : executionFailure('TARGET_NOT_FOUND', `this runner does not serve ${job.job.kind} target ${job.job.target}; nothing was run`);
    log.info({ actionId: job.actionId, ok: result.ok, exitCode: result.exitCode, code: result.error?.code }, 'ran an action');
    return { jobId: job.jobId, type: 'execute', actionId: job.actionId, result };
  }

  function start(job: Job): void {
    if (running.has(job.jobId) || held.has(job.jobId)) return;
    running.add(job.jobId);
    const p = handle(job)
      .then((r) => {
        held.set(r.jobId, r);
        running.delete(job.jobId);
        // Delivered at once; if the gateway is away, the next poll carries it.
        return sync(0).then(
          () => undefined,
          () => undefined,
        );
      })
      .finally(() => work.delete(p));
    work.add(p);
  }

  // fetch says "fetch failed"; the cause says why (ECONNREFUSED, a certificate that does not verify).
  const why = (e: unknown) => {
    const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
    const text = [cause?.code, cause?.message].find((v): v is string => typeof v === 'string');
    return text ?? (e as Error).message;
  };
  const loop = (async () => {
    let backoff = 500;
    let lastWhy: string | undefined;
    while (!stopping.signal.aborted) {
      try {
        await sync(POLL_WAIT_MS);
        backoff = 500;
        lastWhy = undefined;
      } catch (e) {
        if (stopping.signal.aborted) break;
        // Once per cause: a runner that never connects says why (a refused certificate, a wrong URL).
        if (why(e) !== lastWhy) log.warn({ err: why(e), held: held.size }, connected ? 'gateway unreachable; holding results' : 'cannot connect to the gateway; retrying');
        lastWhy = why(e);
        if ((e as { status?: number }).status === 401) log.error('the gateway refused this runner\'s credentials');
        connected = false;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  })();

  return {
    instance,
    async stop() {
      stopping.abort();
      await loop;
      while (work.size) await Promise.allSettled([...work]);
      if (held.size) await sync(0).catch(() => undefined);
      await sql?.close();
    },
  };
}
