import type { Logger } from 'pino';
import { createHttpExecutor } from '../adapters/executors/http-executor.js';
import type { LoadedConfig } from '../config/load.js';
import type { Config, HttpTargetConfig } from '../config/schema.js';
import type { Redactor } from '../domain/redact-secrets.js';
import { createRedactor } from '../domain/redact-secrets.js';
import type { TargetCatalog } from '../domain/target-catalog.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { Executor } from '../ports/executor.js';

/** Config sections a running gateway swaps on reload; a change anywhere else needs a restart. */
export const LIVE_SECTIONS = ['agents', 'humans', 'groups', 'oidc', 'targets', 'channels'] as const;

/** What a reload swaps at once: every piece built from the new config before any is used. */
export interface LiveParts {
  loaded: LoadedConfig;
  redactor: Redactor;
  targets: TargetCatalog;
  http: Executor;
  authenticator?: Authenticator;
}

/**
 * The config-derived parts of a running gateway, behind stable objects that services
 * hold: a reload replaces what they delegate to in one synchronous step, so a request
 * sees the old config or the new one, never a mix.
 */
export interface LiveConfig {
  config(): Config;
  loaded(): LoadedConfig;
  redactor: Redactor;
  targets: TargetCatalog;
  http: Executor;
  authenticator: Authenticator;
  swap(next: LiveParts): void;
  /** The authenticator is built later (it needs the logger and OIDC); set once. */
  setAuthenticator(a: Authenticator): void;
}

export function httpTargetsOf(c: Config): Record<string, HttpTargetConfig> {
  return Object.fromEntries(Object.entries(c.targets).filter((e): e is [string, HttpTargetConfig] => e[1].kind === 'http'));
}

/**
 * Secrets of every config loaded since start: a value that was a secret stays redacted
 * after a reload removes it (results and logs may still quote it).
 */
export function redactorFor(loaded: LoadedConfig, previous?: Redactor): Redactor {
  const secrets = [...new Set([...(previous?.secrets ?? []), ...loaded.secrets])];
  const credentials = [...new Set([...(previous?.credentials ?? []), ...loaded.credentials])];
  return createRedactor(secrets, { window: loaded.config.redaction.window, credentials });
}

export function createLiveConfig(first: { loaded: LoadedConfig; redactor: Redactor; targets: TargetCatalog }): LiveConfig {
  let cur: LiveParts = { ...first, http: createHttpExecutor({ targets: httpTargetsOf(first.loaded.config), redactor: first.redactor }) };
  const redactor: Redactor = {
    get secrets() {
      return cur.redactor.secrets;
    },
    get credentials() {
      return cur.redactor.credentials;
    },
    get size() {
      return cur.redactor.size;
    },
    text: (s) => cur.redactor.text(s),
    bytes: (b) => cur.redactor.bytes(b),
    deep: (v) => cur.redactor.deep(v),
  };
  return {
    config: () => cur.loaded.config,
    loaded: () => cur.loaded,
    redactor,
    targets: { get: (n) => cur.targets.get(n), names: () => cur.targets.names() },
    http: { execute: (a, signal) => cur.http.execute(a, signal) },
    authenticator: {
      authenticate: (t) => {
        if (!cur.authenticator) return Promise.resolve(undefined);
        return cur.authenticator.authenticate(t);
      },
    },
    swap(next) {
      cur = { ...next, authenticator: next.authenticator ?? cur.authenticator };
    },
    setAuthenticator(a) {
      cur = { ...cur, authenticator: a };
    },
  };
}

/** Logs which sections changed, for the operator (no values: they may hold secrets). */
export function changedSections(before: Config, after: Config): string[] {
  return Object.keys({ ...before, ...after }).filter((k) => JSON.stringify((before as Record<string, unknown>)[k]) !== JSON.stringify((after as Record<string, unknown>)[k]));
}

export type ReloadLogger = Pick<Logger, 'info' | 'error' | 'warn'>;
