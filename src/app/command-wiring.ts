import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CommandTargetSettings } from '../adapters/command/command-settings.js';
import { commandTargetSettings } from '../adapters/command/command-settings.js';
import { createLocalCommandTargets } from '../adapters/command/command-targets.js';
import { hashToken } from '../adapters/identity/token-authenticator.js';
import type { CommandTargetConfig } from '../config/command-schema.js';
import type { Config } from '../config/schema.js';
import { parseDuration } from '../domain/duration.js';
import type { ActionRecord } from '../domain/action-record.js';
import { executionFailure } from '../domain/execution-failure.js';
import type { Redactor } from '../domain/redact-secrets.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { Clock } from '../ports/clock.js';
import type { Executor } from '../ports/executor.js';
import type { Previewer } from '../ports/previewer.js';
import type { Store } from '../ports/store.js';
import type { RunnerHub } from '../runner/runner-hub.js';
import { createRunnerHub } from '../runner/runner-hub.js';
import { registerRunnerRoutes, runnerAuthenticator } from '../runner/runner-routes.js';

export interface CommandWiring {
  executor: Executor;
  previewer: Previewer;
  /** Upper bound of one command execution (for the execution lease). */
  maxDurationMs(a: ActionRecord): number | undefined;
  /** The runner routes, when runners are configured. */
  routes(authenticator: Authenticator): (app: FastifyInstance) => void;
  close(): void;
}

/**
 * Command targets: those the gateway runs itself (`runner: local`, programs resolved
 * now, so that a missing one fails the start) and those its runners run (the hub).
 * Wiring only. Undefined when the config has no command target and no runner.
 */
export function createCommandWiring(deps: { config: Config; redactor: Redactor; clock: Clock; store: Store; logger: Logger }): CommandWiring | undefined {
  const { config } = deps;
  const targets = Object.entries(config.targets).filter((e): e is [string, CommandTargetConfig] => e[1].kind === 'command');
  if (targets.length === 0 && config.runners.list.length === 0) return undefined;
  const local = new Map<string, CommandTargetSettings>();
  const remote = new Map<string, readonly string[]>();
  for (const [name, t] of targets) {
    if (t.runner === 'local') local.set(name, commandTargetSettings(name, t));
    else remote.set(name, Array.isArray(t.runner) ? t.runner : [t.runner]);
  }
  const here = createLocalCommandTargets(local, deps.redactor);
  const leaseMs = parseDuration(config.runners.lease);
  const claimTimeoutMs = parseDuration(config.runners.claimTimeout);
  const hub: RunnerHub = createRunnerHub({
    targetRunners: remote,
    configured: config.runners.list.map((r) => r.id),
    leaseMs,
    claimTimeoutMs,
    clock: deps.clock,
    audit: (entries) => deps.store.appendAudit(entries),
    onError: (e) => deps.logger.error({ err: e }, 'runner audit entry failed to record'),
  });
  const runnerOf = runnerAuthenticator(config.runners.list.map((r) => ({ id: r.id, tokenHash: r.tokenHash ?? hashToken(r.token!) })));
  return {
    executor: {
      execute(action, signal) {
        if (local.has(action.target)) return here.executor.execute(action, signal);
        if (remote.has(action.target)) return hub.execute(action, signal);
        return Promise.resolve(executionFailure('TARGET_NOT_FOUND', `no command target ${action.target}`));
      },
    },
    previewer: {
      preview(action) {
        if (local.has(action.target)) return here.previewer.preview(action);
        if (remote.has(action.target)) return hub.preview(action);
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
    routes: (authenticator) => (app) => registerRunnerRoutes(app, { hub, runnerOf, authenticator }),
    close: () => hub.close(),
  };
}
