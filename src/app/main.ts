import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { runShutdownSteps } from './shutdown-steps.js';
import { createTimeOrderedIds } from '../adapters/ids/time-ordered-ids.js';
import { startAuditLog } from './audit-wiring.js';
import { chainAuthenticators } from '../adapters/identity/authenticator-chain.js';
import type { TokenEntry } from '../adapters/identity/token-authenticator.js';
import { createTokenAuthenticator, hashToken } from '../adapters/identity/token-authenticator.js';
import { watchPolicyFile } from '../adapters/policy/policy-file-watcher.js';
import { agentTargets } from '../config/agent-targets.js';
import { configGroups, targetFacts } from '../config/config-facts.js';
import type { LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { PostgresTargetConfig } from '../config/postgres-schema.js';
import type { PostgresTargets } from '../adapters/sql/postgres-targets.js';
import type { SqlParser } from '../ports/sql-parser.js';
import { commandTargetInfo } from '../config/command-target-info.js';
import type { CommandWiring } from './command-wiring.js';
import { parseMaskRules } from '../domain/sql-mask.js';
import type { ActionKind } from '../domain/action.js';
import { parseDuration } from '../domain/duration.js';
import { AppError } from '../domain/errors.js';
import type { TargetCatalog } from '../domain/target-catalog.js';
import { buildTargetCatalog } from '../domain/target-catalog.js';
import { formatIssue } from '../domain/yaml-source.js';
import type { AgentWays } from './agents-wiring.js';
import { createAgentWays } from './agents-wiring.js';
import { createChannels } from './channels-wiring.js';
import { trustedKeys } from './audit-wiring.js';
import type { ReviewsWiring } from './reviews-wiring.js';
import { createReviewsWiring } from './reviews-wiring.js';
import type { LiveConfig } from './live-config.js';
import { createLiveConfig } from './live-config.js';
import type { ReloadResult } from './reload-wiring.js';
import { createConfigReloader } from './reload-wiring.js';
import type { GatewayStore } from './store-wiring.js';
import { describeStore, openStore } from './store-wiring.js';
import { buildApp } from '../http/app.js';
import { createMetrics } from '../http/metrics.js';
import { createLogger } from '../logger.js';
import type { Redactor } from '../domain/redact-secrets.js';
import { createRedactor } from '../domain/redact-secrets.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { Executor } from '../ports/executor.js';
import type { Previewer } from '../ports/previewer.js';
import { executionFailure } from '../domain/execution-failure.js';
import { runnersOf } from '../config/runner-choice.js';
import type { ProcessInfo } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import { createActionEvents } from '../services/action-events.js';
import type { ActionEvents } from '../services/action-events.js';
import { createExecutionService } from '../services/execution-service.js';
import { createKindChecks } from '../services/kind-checks.js';
import { createInputCheck } from '../services/input-checks.js';
import type { PolicyService } from '../services/policy-service.js';
import { createPolicyService } from '../services/policy-service.js';
import { createQueryService } from '../services/query-service.js';
import { createReviewService } from '../services/review-service.js';
import { createSchedulerService } from '../services/scheduler-service.js';
import { createSubmitService } from '../services/submit-service.js';
import { VERSION } from '../version.js';

export interface Gateway {
  app: FastifyInstance;
  /** The base URL the server listens on (after listen). */
  url: string;
  store: Store;
  events: ActionEvents;
  policy: PolicyService;
  logger: Logger;
  /** Reloads the config file's live sections and the policy (SIGHUP does the same). */
  reload(trigger: string): Promise<ReloadResult>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  logger?: Logger;
  /** Where the gateway's own logger writes (stdout by default); ignored with `logger`. */
  logDestination?: DestinationStream;
  clock?: Clock;
  /** Overrides `listen` (tests and the demo pick free ports). */
  listen?: string;
  /** SIGHUP reloads the policy only (the default for `countersign mcp`); `serve` reloads the whole config instead. */
  policySighup?: boolean;
}

/** Bearer tokens, and OIDC JWTs when `oidc` is configured (its JWT library loads only then). */
export async function buildAuthenticator(c: Config, log?: Logger): Promise<Authenticator> {
  const entries: TokenEntry[] = [];
  for (const a of c.agents) {
    entries.push({ tokenHash: a.tokenHash ?? hashToken(a.token!), principal: { type: 'agent', id: a.id, owner: a.owner, labels: a.labels ?? {} } });
  }
  for (const h of c.humans) {
    const hash = h.tokenHash ?? (h.token ? hashToken(h.token) : undefined);
    if (hash) entries.push({ tokenHash: hash, principal: { type: 'human', id: h.id, groups: h.groups } });
  }
  const list = [createTokenAuthenticator(entries)];
  if (c.oidc) {
    const { createOidcAuthenticator } = await import('../adapters/identity/oidc-authenticator.js');
    const byId = new Map(c.humans.map((h) => [h.id.toLowerCase(), h.groups]));
    list.push(
      createOidcAuthenticator({
        ...c.oidc,
        configuredGroups: (id) => byId.get(id.toLowerCase()) ?? [],
        onRefused: (reason) => log?.info({ reason }, 'OIDC token refused'),
      }),
    );
  }
  return chainAuthenticators(list);
}

export function buildTargets(c: Config): TargetCatalog {
  return buildTargetCatalog([
    ...Object.entries(c.targets).map(([name, t]) =>
      t.kind === 'http'
        ? { name, kind: t.kind, baseUrl: t.baseUrl, facts: targetFacts(c, name)! }
        : t.kind === 'command'
          ? { name, kind: t.kind, command: commandTargetInfo(t), facts: targetFacts(c, name)! }
          : { name, kind: t.kind, exportRows: t.limits.exportRows, maskParams: t.maskParams, maskRules: parseMaskRules(t.mask), facts: targetFacts(c, name)! },
    ),
    ...agentTargets(c),
  ]);
}

/**
 * The `sql` kind's executor and previewer: the gateway's own pools for the postgres
 * targets it runs, the runners for those they run. Undefined without either.
 */
function sqlRouting(local: PostgresTargets | undefined, remote: CommandWiring['remoteSql'] | undefined): { executor: Executor; previewer: Previewer } | undefined {
  if (!local && !remote) return undefined;
  const none = (target: string) => executionFailure('TARGET_NOT_FOUND', `no postgres target named "${target}"`);
  return {
    executor: {
      execute: (a, signal) => (remote?.serves(a.target) ? remote.executor.execute(a, signal) : local ? local.executor.execute(a, signal) : Promise.resolve(none(a.target))),
    },
    previewer: {
      preview: (a) => (remote?.serves(a.target) ? remote.previewer.preview(a) : local ? local.previewer.preview(a) : Promise.resolve(undefined)),
    },
  };
}

function processInfo(): ProcessInfo {
  return {
    host: hostname(),
    pid: process.pid,
    instance: randomUUID(),
    isAlive(pid) {
      try {
        process.kill(pid, 0);
        return true;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    },
  };
}

/** The gateway without its HTTP server: store, policy, services, scheduler, MCP gateway. */
export interface Core {
  store: GatewayStore;
  /** Removes the config's secrets, in every form, from results, errors and logs: built once. */
  redactor: Redactor;
  clock: Clock;
  events: ActionEvents;
  policy: PolicyService;
  logger: Logger;
  submit: ReturnType<typeof createSubmitService>;
  reviews: ReturnType<typeof createReviewService>;
  queries: ReturnType<typeof createQueryService>;
  executions: ReturnType<typeof createExecutionService>;
  agents: ReturnType<AgentWays['start']> & { plugins: AgentWays['plugins'] };
  /** Counters, standing grants, batch reviews (reviews-wiring.ts). */
  tuning: ReviewsWiring;
  /** Command targets and their runners (docs/commands.md), when configured. */
  commands: CommandWiring | undefined;
  /** The URL humans reach the gateway at (links in results); settable once the server listens. */
  publicUrl: { value: string };
  /** PostgreSQL's parser and the `postgres` targets, when the config has such targets (the wire gateway uses them). */
  sql?: { parser: SqlParser; targets: PostgresTargets };
  /** The config-derived parts a reload swaps. */
  live: LiveConfig;
  close(): Promise<void>;
}

/** Starts everything but HTTP: `serve` adds the API; `countersign mcp` serves MCP over stdio beside it. Wiring only. */
export async function startCore(loaded: LoadedConfig, opts: GatewayOptions = {}): Promise<Core> {
  const { config } = loaded;
  const live = createLiveConfig({ loaded, redactor: createRedactor(loaded.secrets, { window: config.redaction.window, credentials: loaded.credentials }), targets: buildTargets(config) });
  const { redactor, targets } = live;
  const logger = opts.logger ?? createLogger(config.log.level, opts.logDestination, redactor, config.log.format);
  const clock = opts.clock ?? systemClock;
  const store = await openStore(loaded.store, { onListenError: (e) => logger.warn({ err: e }, 'store notifications interrupted; waiters fall back to polling') });
  const events = createActionEvents((e) => logger.error({ err: e }, 'action event listener failed'));
  const [host, port] = splitHostPort(opts.listen ?? config.listen);
  const publicUrl = { value: (config.publicUrl ?? `http://${host}:${port}`).replace(/\/$/, '') };

  // Groups as the running config has them: a reload swaps them with the humans.
  const groups = (() => {
    let of: Config | undefined;
    let lookup = configGroups(config);
    return () => (of === live.config() ? lookup : ((of = live.config()), (lookup = configGroups(of))));
  })();
  const policy = createPolicyService({ store, clock, groupExists: (n) => groups().groupExists(n), groupSize: (n) => groups().groupSize(n) });
  const policyText = readFileSync(loaded.policyPath, 'utf8');
  const first = await policy.load(policyText, loaded.policyPath, 'startup');
  if (!first.ok) {
    await store.close();
    throw new AppError('POLICY_INVALID', `invalid policy:\n${first.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`, { issues: first.issues });
  }
  for (const w of first.warnings) logger.warn({ warning: formatIssue(w) }, 'policy warning');

  const ways = await createAgentWays({ loaded, store, policy, targets, clock, logger, redactor, publicUrl: () => publicUrl.value });
  // PostgreSQL's parser (WASM) loads once, only when a target can receive SQL.
  // Outcomes are kept by text, so a statement sent again (prepared, or by the wire gateway) is parsed once.
  // Like every optional part, its modules are imported only then (docs/production.md, memory).
  const sqlParser = Object.values(config.targets).some((t) => t.kind === 'postgres') ? await loadSqlParser() : undefined;
  // Those a runner runs are not here: the runner holds their URL (command-wiring.ts).
  const pgTargets = Object.fromEntries(
    Object.entries(config.targets).filter((e): e is [string, PostgresTargetConfig & { url: string }] => e[1].kind === 'postgres' && runnersOf(e[1].runner).length === 0),
  );
  // One pool per database target, shared by its executor and its previewer; none without such targets.
  const postgres = Object.keys(pgTargets).length > 0 ? (await import('../adapters/sql/postgres-targets.js')).createPostgresTargets(pgTargets) : undefined;
  const commands = usesCommands(config) ? (await import('./command-wiring.js')).createCommandWiring({ config, storeChoice: loaded.store, redactor, clock, store, logger }) : undefined;
  const sql = sqlRouting(postgres, commands?.remoteSql);
  const executors: Partial<Record<ActionKind, Executor>> = {
    http: live.http,
    ...(commands ? { command: commands.executor } : {}),
    ...(ways.mcpExecutor ? { mcp: ways.mcpExecutor } : {}),
    ...(sql ? { sql: sql.executor } : {}),
  };
  const executions = createExecutionService({
    store,
    clock,
    notifier: events,
    executors,
    process: processInfo(),
    maxDurationMs: (a) => {
      const t = live.config().targets[a.target];
      if (t?.kind === 'http') return parseDuration(t.timeout) * (t.followRedirects + 1);
      if (t?.kind === 'postgres') return parseDuration(t.limits.statementTimeout) + 5_000 + (commands?.runnerAllowanceMs(a.target) ?? 0);
      if (t?.kind === 'command') return commands!.maxDurationMs(a)!;
      const s = config.mcp.servers[a.target];
      return s ? parseDuration(s.timeout) : 60_000;
    },
    concurrency: config.executions.concurrency,
    onError: (e, a) => logger.error({ err: e, actionId: a.id }, 'execution failed to record'),
  });
  const dispatch = executions.dispatch;
  const tuning = createReviewsWiring({ store, policy, clock, auditorGroups: config.audit.readerGroups });
  const submit = createSubmitService({
    store,
    policy,
    targets,
    checkInput: createInputCheck(createKindChecks({ sqlParser }), new Set(Object.keys(executors) as ActionKind[])),
    clock,
    ids: createTimeOrderedIds(),
    notifier: events,
    dispatch,
    extras: ways.extras,
    held: store,
    runnerFor: executions.runnerFor,
    previewers: { ...(sql ? { sql: sql.previewer } : {}), ...(commands ? { command: commands.previewer } : {}) },
    tuning: tuning.tuning,
  });
  const reviews = createReviewService({ store, clock, notifier: events, dispatch, grants: tuning.creation });
  const queries = createQueryService({
    store,
    events,
    auditorGroups: config.audit.readerGroups,
    remoteChanges: store.watchChanges,
    onError: (e) => logger.warn({ err: e }, 'reading the audit log for changes made by other processes failed'),
  });
  const scheduler = createSchedulerService({ store, clock, notifier: events, executions });
  const agents = { ...ways.start({ submit, queries, executions }), plugins: ways.plugins };

  // Recovery before serving: interrupted executions are marked, never re-run.
  const recovered = await executions.recover();
  if (recovered.interrupted) logger.warn({ count: recovered.interrupted }, 'marked interrupted executions as failed');

  let ticking = false;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    scheduler
      .tick()
      // Grants that time or a policy change ended get their grant.ended entry (grant-service.ts).
      .then(() => tuning.grants.sweep())
      .catch((e: unknown) => logger.error({ err: e }, 'scheduler tick failed'))
      .finally(() => (ticking = false));
  }, config.scheduler.intervalMs);

  const stopWatching = watchPolicyFile({
    file: loaded.policyPath,
    sighup: opts.policySighup !== false,
    loadedText: policyText,
    reload: async (text, trigger) => {
      const r = await policy.load(text, loaded.policyPath, trigger);
      if (r.ok) logger.info({ version: r.version, trigger }, 'policy loaded');
      else logger.error({ errors: r.issues.map(formatIssue), kept: r.version, trigger }, 'policy rejected; keeping the last good policy');
    },
    onError: (e) => logger.error({ err: e }, 'policy reload failed'),
  });

  let closing: Promise<void> | undefined;
  return {
    store,
    redactor,
    clock,
    events,
    policy,
    logger,
    submit,
    reviews,
    queries,
    executions,
    agents,
    tuning,
    commands,
    publicUrl,
    ...(sqlParser && postgres ? { sql: { parser: sqlParser, targets: postgres } } : {}),
    live,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        stopWatching();
        await runShutdownSteps(logger, [
          [
            'executions in flight',
            () => {
              // Those still waiting for a slot stay approved for the next process: a stop
              // waits for what runs, not for a queue of thousands after a bulk approval.
              executions.stop();
              return executions.drain();
            },
          ],
          ['command runners', () => commands?.close()],
          ['agent ways (MCP upstreams)', () => ways.close()],
          ['SQL targets', () => postgres?.close()],
          ['store', () => store.close()],
        ]);
      })();
      return closing;
    },
  };
}

/** Starts the gateway: store, policy, services, scheduler and HTTP API. Wiring only. */
export async function startGateway(loaded: LoadedConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  const { config } = loaded;
  const core = await startCore(loaded, { ...opts, policySighup: false });
  const { store, policy, logger, events, publicUrl, live } = core;
  const [host, port] = splitHostPort(opts.listen ?? config.listen);
  live.setAuthenticator(await buildAuthenticator(config, logger));
  const authenticator = live.authenticator;
  const audit = (() => {
    try {
      return startAuditLog({ loaded, store, queries: core.queries, authenticator, clock: core.clock, logger, instance: randomUUID(), version: VERSION });
    } catch (e) {
      void core.close();
      throw e;
    }
  })();
  const channels = await createChannels({
    config,
    store,
    events,
    reviews: core.reviews,
    authenticator,
    logger,
    clock: core.clock,
    publicUrl: () => publicUrl.value,
    redactor: core.redactor,
    bodyLimit: config.server.bodyLimitBytes,
    humans: () => live.config().humans,
  });
  // Made once the channels exist: a reload swaps them too.
  const reloader = createConfigReloader({ file: loaded.file, live, policy, store, clock: core.clock, logger, buildAuthenticator: (c) => buildAuthenticator(c, logger), buildTargets, channels });
  const reload = (trigger: string) => reloader.reload(trigger);
  const onHup = () => void reload('sighup').catch((e: unknown) => logger.error({ err: e }, 'config reload failed'));
  // The console is restart-only (not a live section): its modules load only when enabled.
  const consolePlugins = config.console?.enabled
    ? (await import('./console-wiring.js')).createConsole({ config, core, verifierKeys: trustedKeys(loaded, audit.signing.signer.verifier).map((k) => k.text) })
    : [];
  const app = await buildApp({
    authenticator,
    logger,
    metrics: createMetrics(events, { store, channels: store.channels, waiters: () => core.queries.waiting(), clock: core.clock }),
    bodyLimitBytes: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    maxWaitSeconds: config.server.maxWaitSeconds,
    version: VERSION,
    submit: core.submit,
    reviews: core.reviews,
    queries: core.queries,
    executions: core.executions,
    get publicUrl() {
      return publicUrl.value;
    },
    health: async () => {
      const p = policy.current();
      const s = await store.health();
      if (!s.ok) logger.error({ reason: s.reason }, 'store unhealthy');
      return { ok: !!p && s.ok, policyVersion: p?.version, database: s.ok };
    },
    plugins: [
      ...core.agents.plugins(authenticator),
      ...channels.plugins,
      (scope) => audit.routes(scope),
      ...consolePlugins,
      core.tuning.plugin(authenticator, core.reviews, () => publicUrl.value),
      ...(core.commands ? [core.commands.routes(authenticator)] : []),
    ],
  });
  const address = await app.listen({ host, port });
  const url = address.replace('[::1]', 'localhost');
  if (!config.publicUrl) publicUrl.value = url;
  await channels.start();
  const pgwire = await (config.postgresListen ? import('./pgwire-wiring.js').then((m) => m.startPgwire({ loaded, core, authenticator })) : Promise.resolve(undefined)).catch(async (e: unknown) => {
    await app.close();
    await channels.close();
    await audit.close();
    await core.close();
    throw e;
  });
  const runnerTls = await (core.commands?.listenTls(dirname(loaded.file)) ?? Promise.resolve(undefined)).catch(async (e: unknown) => {
    await app.close();
    await pgwire?.close();
    await channels.close();
    await audit.close();
    await core.close();
    throw e;
  });
  process.on('SIGHUP', onHup);

  logger.info({ url, policyVersion: policy.current()?.version, ...describeStore(loaded.store) }, 'countersign listening');

  let closed = false;
  return {
    app,
    url,
    store,
    events,
    policy,
    logger,
    reload,
    async close() {
      if (closed) return;
      closed = true;
      process.off('SIGHUP', onHup);
      // First: no execution starts while the servers and channels close (requests in flight
      // and the scheduler could still take approved actions); what waits stays approved.
      core.executions.stop();
      // Graceful, but bounded: a connection the server still counts as busy (a client that
      // went away mid-request on a reused keep-alive socket) must not hold shutdown for
      // the headers timeout.
      const force = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await runShutdownSteps(logger, [
        ['HTTP server', () => app.close().finally(() => clearTimeout(force))],
        ['wire gateway', () => pgwire?.close()],
        ['runner TLS listener', () => runnerTls?.close()],
        ['channels', () => channels.close()],
        ['audit (checkpoints, witnesses, SIEM)', () => audit.close()],
        ['core', () => core.close()],
      ]);
    },
  };
}

const SHUTDOWN_GRACE_MS = 5000;

/** PostgreSQL's parser (WASM) and its cache by statement text. */
async function loadSqlParser(): Promise<SqlParser> {
  const [{ createPgQueryParser }, { cachedSqlParser }] = await Promise.all([import('../adapters/sql/pg-query-parser.js'), import('../adapters/sql/sql-parse-cache.js')]);
  return cachedSqlParser(await createPgQueryParser(), { entries: 1000, maxChars: 8192 });
}

/** Command targets or runners (command-wiring.ts returns nothing without either). */
function usesCommands(c: Config): boolean {
  return c.runners.list.length > 0 || Object.values(c.targets).some((t) => t.kind === 'command');
}

function splitHostPort(listen: string): [string, number] {
  const i = listen.lastIndexOf(':');
  return [listen.slice(0, i), Number(listen.slice(i + 1))];
}
