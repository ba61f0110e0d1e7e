import { readFile } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { configGroups } from '../config/config-facts.js';
import type { Config } from '../config/schema.js';
import type { AuditDraft } from '../domain/audit-entry.js';
import { PolicyError, compilePolicy } from '../domain/policy-compile.js';
import type { TargetCatalog } from '../domain/target-catalog.js';
import { formatIssue } from '../domain/yaml-source.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { PolicyService } from '../services/policy-service.js';
import { createHttpExecutor } from '../adapters/executors/http-executor.js';
import type { ChannelsChange } from './channels-wiring.js';
import type { LiveConfig, ReloadLogger } from './live-config.js';
import { LIVE_SECTIONS, changedSections, httpTargetsOf, redactorFor } from './live-config.js';

export type ReloadResult = { ok: true; changed: string[]; policyVersion: string | undefined } | { ok: false; errors: string[] };

export interface ConfigReloader {
  /** Reads the config file again and swaps in its live sections and the policy, or refuses it all and keeps the running config. */
  reload(trigger: string): Promise<ReloadResult>;
}

/** Database targets hold connection pools: changing one needs a restart. */
function postgresTargets(c: Config): string {
  return JSON.stringify(Object.entries(c.targets).filter(([, t]) => t.kind !== 'http'));
}

/** Why a new config cannot be swapped in live: sections only a restart applies. */
function needsRestart(before: Config, after: Config): string[] {
  const live = new Set<string>(LIVE_SECTIONS);
  const out = changedSections(before, after).filter((k) => !live.has(k));
  if (postgresTargets(before) !== postgresTargets(after)) out.push('targets (postgres)');
  return out;
}

const SYSTEM = { type: 'system', id: 'countersign' } as const;

export function createConfigReloader(deps: {
  file: string;
  live: LiveConfig;
  policy: PolicyService;
  store: Store;
  clock: Clock;
  logger: ReloadLogger;
  buildAuthenticator(c: Config): Authenticator | Promise<Authenticator>;
  buildTargets(c: Config): TargetCatalog;
  /** Chat channels and webhooks (channels-wiring.ts): built with the rest, swapped after the audit entry. */
  channels?: { prepare(next: Config): Promise<ChannelsChange> };
  env?: NodeJS.ProcessEnv;
}): ConfigReloader {
  let chain: Promise<unknown> = Promise.resolve();

  async function refuse(trigger: string, errors: string[]): Promise<ReloadResult> {
    await deps.store.appendAudit([{ type: 'config.rejected', ts: deps.clock.now().toISOString(), actor: SYSTEM, data: { file: deps.file, trigger, errors } }]);
    deps.logger.error({ errors, trigger }, 'config reload refused; the running config is kept');
    return { ok: false, errors };
  }

  async function run(trigger: string): Promise<ReloadResult> {
    const before = deps.live.config();
    let next: LoadedConfig;
    try {
      next = loadConfig(deps.file, deps.env ?? process.env);
    } catch (e) {
      return refuse(trigger, e instanceof ConfigError ? e.issues.map(formatIssue) : [e instanceof Error ? e.message : String(e)]);
    }
    const restart = needsRestart(before, next.config);
    if (restart.length) return refuse(trigger, [`these sections changed and only apply on a restart: ${restart.join(', ')}`]);

    // Everything is built, and the policy checked against the new groups, before anything is swapped.
    let policyText: string;
    let parts: Parameters<LiveConfig['swap']>[0];
    let channels: ChannelsChange | undefined;
    try {
      policyText = await readFile(next.policyPath, 'utf8');
      compilePolicy(policyText, next.policyPath, configGroups(next.config));
      const redactor = redactorFor(next, deps.live.redactor);
      parts = {
        loaded: next,
        redactor,
        targets: deps.buildTargets(next.config),
        http: createHttpExecutor({ targets: httpTargetsOf(next.config), redactor }),
        authenticator: await deps.buildAuthenticator(next.config),
      };
      channels = await deps.channels?.prepare(next.config);
    } catch (e) {
      if (e instanceof PolicyError) return refuse(trigger, e.issues.map(formatIssue));
      return refuse(trigger, [e instanceof Error ? e.message : String(e)]);
    }
    const changed = changedSections(before, next.config);
    const draft: AuditDraft = {
      type: 'config.loaded',
      ts: deps.clock.now().toISOString(),
      actor: SYSTEM,
      // Counts and names only: the config holds secrets.
      data: { file: deps.file, trigger, changed, agents: next.config.agents.length, humans: next.config.humans.length, targets: Object.keys(next.config.targets).length },
    };
    // The audit entry commits before the new config authenticates anyone (or signs, or sends).
    // With channels, it commits with the cancellation of removed channels' deliveries, then they swap.
    if (channels) await channels.commit(draft);
    else await deps.store.appendAudit([draft]);
    deps.live.swap(parts);
    const p = await deps.policy.load(policyText, next.policyPath, trigger);
    deps.logger.info({ trigger, changed, policyVersion: p.version }, 'config reloaded');
    return { ok: true, changed, policyVersion: p.version };
  }

  return {
    reload(trigger) {
      // Serialised: two SIGHUPs in a row reload twice, one after the other.
      const r = chain.then(() => run(trigger));
      chain = r.catch(() => undefined);
      return r;
    },
  };
}
