import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CommandTargetSettings } from '../adapters/command/command-settings.js';
import { commandTargetSettings } from '../adapters/command/command-settings.js';
import { createLocalCommandTargets } from '../adapters/command/command-targets.js';
import { hashToken } from '../adapters/identity/token-authenticator.js';
import { createMemoryRunnerQueue } from '../adapters/runner/memory-runner-queue.js';
import { createPgRunnerQueue } from '../adapters/runner/pg-runner-queue.js';
import type { CommandTargetConfig } from '../config/command-schema.js';
import type { StoreChoice } from '../config/load.js';
import { runnersOf } from '../config/runner-choice.js';
import type { Config } from '../config/schema.js';
import { parseDuration } from '../domain/duration.js';
import type { ActionRecord } from '../domain/action-record.js';
import { executionFailure } from '../domain/execution-failure.js';
import type { Redactor } from '../domain/redact-secrets.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { Clock } from '../ports/clock.js';
import type { Executor } from '../ports/executor.js';
import type { Previewer } from '../ports/previewer.js';
import type { RunnerQueue } from '../ports/runner-queue.js';
import type { Store } from '../ports/store.js';
import type { RunnerHub } from '../runner/runner-hub.js';
import { createRunnerHub } from '../runner/runner-hub.js';
import { runnerAuthenticator } from '../runner/runner-auth.js';
import type { RunnerSyncDeps } from '../runner/runner-routes.js';
import { registerRunnerRoutes } from '../runner/runner-routes.js';
import type { RunnerTlsListener } from '../runner/runner-tls-listener.js';
import { startRunnerTlsListener } from '../runner/runner-tls-listener.js';

export interface CommandWiring {
  executor: Executor;
  previewer: Previewer;
  /** `sql` actions of the postgres targets runners run (`runner:` other than local): the gateway holds no URL for them. */
  remoteSql: { serves(target: string): boolean; executor: Executor; previewer: Previewer };
  /** Upper bound of one command execution (for the execution lease). */
  maxDurationMs(a: ActionRecord): number | undefined;
  /** Time added to an execution's bound when a runner runs its target: the wait for a runner and its lease. */
  runnerAllowanceMs(target: string): number;
  /** The runner routes, when runners are configured. */
  routes(authenticator: Authenticator): (app: FastifyInstance) => void;
  /** Starts the runners' mutual-TLS listener when `runners.tls` is set (paths resolve against `base`, the config's folder). */
  listenTls(base: string): Promise<RunnerTlsListener | undefined>;
  close(): Promise<void>;
}

/**
 * Where runner jobs wait: in this process for SQLite (one node); in the PostgreSQL store's
 * schema for PostgreSQL, so that a runner polling any replica takes the jobs of all.
 */
function runnerQueueFor(store: StoreChoice, logger: Logger): RunnerQueue {
  if (store.kind === 'sqlite') return createMemoryRunnerQueue();
  const c = store.config;
  return createPgRunnerQueue(
    { url: c.url, schema: c.schema, statementTimeoutMs: parseDuration(c.statementTimeout), connectTimeoutMs: parseDuration(c.connectTimeout) },
    (e) => logger.warn({ err: e }, 'runner queue notifications interrupted; runners and waiters fall back to polling'),
  );
}

/**
 * Command targets: those the gateway runs itself (`runner: local`, programs resolved
 * now, so that a missing one fails the start) and those its runners run (the hub).
 * Wiring only. Undefined when the config has no command target and no runner.
 */
export function createCommandWiring(deps: { config: Config; storeChoice: StoreChoice; redactor: Redactor; clock: Clock; store: Store; logger: Logger }): CommandWiring | undefined {
  const { config } = deps;
  const targets = Object.entries(config.targets).filter((e): e is [string, CommandTargetConfig] => e[1].kind === 'command');
  if (targets.length === 0 && config.runners.list.length === 0) return undefined;
  const local = new Map<string, CommandTargetSettings>();
  const remote = new Map<string, readonly string[]>();
  for (const [name, t] of targets) {
    if (t.runner === 'local') local.set(name, commandTargetSettings(name, t));
    else remote.set(name, runnersOf(t.runner));
  }
  const remoteSql = new Set<string>();
  for (const [name, t] of Object.entries(config.targets)) {
    if (t.kind !== 'postgres' || runnersOf(t.runner).length === 0) continue;
    remote.set(name, runnersOf(t.runner));
    remoteSql.add(name);
  }
  const queue = runnerQueueFor(deps.storeChoice, deps.logger);
  const here = createLocalCommandTargets(local, deps.redactor);
  const leaseMs = parseDuration(config.runners.lease);
  const claimTimeoutMs = parseDuration(config.runners.claimTimeout);
  const hub: RunnerHub = createRunnerHub({
    queue,
    targetRunners: remote,
    configured: config.runners.list.map((r) => r.id),
    leaseMs,
    claimTimeoutMs,
    clock: deps.clock,
    audit: (entries) => deps.store.appendAudit(entries),
    onError: (e) => deps.logger.error({ err: e }, 'runner audit entry failed to record'),
  });
  const authenticate = runnerAuthenticator(
    config.runners.list.map((r) => ({ id: r.id, tokenHash: r.tokenHash ?? (r.token !== undefined ? hashToken(r.token) : undefined), certificate: r.certificate })),
  );
  // Refusals are audited, once a minute per client and reason: a runner retrying with a
  // bad certificate, or a scanner, must not flood the log.
  const lastRefusal = new Map<string, number>();
  const sync: RunnerSyncDeps = {
    hub,
    authenticate,
    refused({ client, reason, tls }) {
      const key = `${client}\u0000${reason}`;
      const t = deps.clock.now().getTime();
      if ((lastRefusal.get(key) ?? -Infinity) > t - 60_000) return;
      if (lastRefusal.size > 10_000) lastRefusal.clear();
      lastRefusal.set(key, t);
      deps.logger.warn({ client, reason, tls }, 'runner credentials refused');
      deps.store
        .appendAudit([{ type: 'runner.refused', ts: deps.clock.now().toISOString(), actor: { type: 'system', id: 'runners' }, data: { client, reason, tls } }])
        .catch((e: unknown) => deps.logger.error({ err: e }, 'runner audit entry failed to record'));
    },
  };
  return {
    executor: {
      execute(action, signal) {
        if (local.has(action.target)) return here.executor.execute(action, signal);
        if (remote.has(action.target) && !remoteSql.has(action.target)) return hub.execute(action, signal);
        return Promise.resolve(executionFailure('TARGET_NOT_FOUND', `no command target ${action.target}`));
      },
    },
    remoteSql: {
      serves: (target) => remoteSql.has(target),
      executor: {
        execute(action, signal) {
          if (!remoteSql.has(action.target)) return Promise.resolve(executionFailure('TARGET_NOT_FOUND', `no postgres target ${action.target} on a runner`));
          // The runner checks the record, as the gateway's own executor does; here only that it is running.
          if (action.status !== 'running') return Promise.resolve(executionFailure('NOT_RUNNING', `the action is ${action.status}; only a running action is executed`));
          return hub.execute(action, signal);
        },
      },
      previewer: { preview: (action) => hub.preview(action) },
    },
    previewer: {
      preview(action) {
        if (local.has(action.target)) return here.previewer.preview(action);
        if (remote.has(action.target) && !remoteSql.has(action.target)) return hub.preview(action);
        return Promise.resolve(undefined);
      },
    },
    maxDurationMs(a) {
      const t = config.targets[a.target];
      if (t?.kind !== 'command') return undefined;
      // Twice the timeout: the drift check re-runs the preview before the command itself.
      const run = 2 * parseDuration(t.limits.timeout);
      return t.runner === 'local' ? run : run + claimTimeoutMs + leaseMs;
    },
    runnerAllowanceMs: (target) => (remote.has(target) ? claimTimeoutMs + leaseMs : 0),
    routes: (authenticator) => (app) => registerRunnerRoutes(app, { ...sync, authenticator }),
    async listenTls(base) {
      if (!config.runners.tls) return undefined;
      return startRunnerTlsListener(config.runners.tls, base, { ...sync, logger: deps.logger });
    },
    async close() {
      hub.close();
      await queue.close();
    },
  };
}
