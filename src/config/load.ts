import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ZodError } from 'zod';
import { AppError } from '../domain/errors.js';
import { MIN_SECRET_LENGTH, PUBLIC_HEADERS, credentialCores, credentialVariants } from '../domain/redact.js';
import type { SourceIssue } from '../domain/yaml-source.js';
import { formatIssue, parseYamlSource } from '../domain/yaml-source.js';
import type { Config } from './schema.js';
import { configSchema } from './schema.js';
import { setOwn } from '../domain/own-key.js';
import type { PostgresTargetConfig } from './postgres-schema.js';
import type { StorePostgresConfig } from './store-schema.js';

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the config file. */
  file: string;
  /** Paths resolved against the config file's folder. The SQLite file; empty when the store is PostgreSQL (see `store`). */
  storePath: string;
  /** The store chosen by config (src/app/store-wiring.ts opens it). */
  store: StoreChoice;
  policyPath: string;
  /** Every secret value the config holds (tokens, injected headers): redacted wherever it might appear. */
  secrets: string[];
  /**
   * The secrets any run of which is redacted (tokens, credential parts of injected headers,
   * chat secrets, MCP env values named like credentials); the other secrets (a whole
   * `Bearer x` value, a URL or path from the environment) are redacted only whole.
   */
  credentials: string[];
}

export type StoreChoice = { kind: 'sqlite'; path: string } | { kind: 'postgres'; config: StorePostgresConfig };

function storePathOf(config: Config, abs: (p: string) => string): string {
  const file = config.store.sqlite;
  if (file === undefined) return '';
  return file === ':memory:' ? ':memory:' : abs(file);
}

export class ConfigError extends AppError {
  readonly issues: SourceIssue[];
  constructor(issues: SourceIssue[]) {
    super('CONFIG_INVALID', `invalid configuration:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`, { issues });
    this.issues = issues;
  }
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${ENV}` in every string, collecting missing variables with their paths. */
interface Interpolation {
  env: NodeJS.ProcessEnv;
  missing: Array<{ path: PropertyKey[]; name: string }>;
  /** Values taken from the environment: treated as secrets. */
  substituted: Set<string>;
  /** For offline tools: what stands for an unset variable at this key. */
  placeholder?: ((path: PropertyKey[]) => string) | undefined;
}

function interpolate(value: unknown, path: PropertyKey[], ctx: Interpolation): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_m, name: string) => {
      const v = ctx.env[name] || ctx.placeholder?.(path);
      if (v === undefined || v === '') {
        ctx.missing.push({ path, name });
        return '';
      }
      ctx.substituted.add(v);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], ctx));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, interpolate(v, [...path, k], ctx));
    return out;
  }
  return value;
}

export function zodIssues(err: ZodError, locate: (path: PropertyKey[], message: string) => SourceIssue): SourceIssue[] {
  return err.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return locate([...i.path, i.keys[0] ?? ''], `unknown key "${i.keys.join('", "')}"`);
    return locate(i.path, i.message);
  });
}

export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env, placeholder?: (path: PropertyKey[]) => string): LoadedConfig {
  const src = parseYamlSource(text, file);
  if (src.errors.length) throw new ConfigError(src.errors);
  const ctx: Interpolation = { env, missing: [], substituted: new Set(), placeholder };
  const raw = interpolate(src.value ?? {}, [], ctx);
  if (ctx.missing.length) throw new ConfigError(ctx.missing.map((m) => src.locate(m.path, `environment variable ${m.name} is not set`)));
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error, (p, m) => src.locate(p, m)));
  const config = parsed.data;
  const short = shortCredentials(config);
  if (short.length) throw new ConfigError(short.map((s) => src.locate(s.path, s.message)));
  const dir = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  return {
    config,
    file: resolve(file),
    storePath: storePathOf(config, abs),
    store: config.store.postgres ? { kind: 'postgres', config: config.store.postgres } : { kind: 'sqlite', path: storePathOf(config, abs) },
    policyPath: abs(config.policy),
    ...collectSecrets(config, ctx.substituted),
  };
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, placeholder?: (path: PropertyKey[]) => string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, path: '', message: `cannot read the config file: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }]);
  }
  return parseConfigText(text, file, env, placeholder);
}

/** An MCP server's env variable whose name says it holds a credential. */
const CREDENTIAL_NAME = /token|secret|key|pass|auth|cred|session|cookie|pat$/i;

/** Tokens, values from the environment, and credential headers: everything that must never be echoed. */
function collectSecrets(c: Config, substituted: Set<string>): { secrets: string[]; credentials: string[] } {
  const out = new Set<string>(substituted);
  const cred = new Set<string>();
  for (const a of c.agents) if (a.token) cred.add(a.token);
  for (const h of c.humans) if (h.token) cred.add(h.token);
  const injected = [...Object.values(c.targets).map((t) => (t.kind === 'http' ? t.headers : {})), ...Object.values(c.mcp.servers).map((s) => ('url' in s ? s.headers : {}))];
  for (const t of Object.values(c.targets)) {
    if (t.kind !== 'postgres') continue;
    const pg = postgresSecrets(t);
    for (const v of pg.whole) out.add(v);
    for (const v of pg.credentials) cred.add(v);
  }
  if (c.store.postgres) {
    // The store's URL whole, and its password as a credential (any run of it), like a target's.
    out.add(c.store.postgres.url);
    const { raw, decoded } = urlPasswordOf(c.store.postgres.url);
    if (raw) {
      out.add(raw);
      cred.add(decoded);
    }
  }
  // A command target's env is injected into its programs: every value is a secret, whole; credential-named ones by their runs too.
  for (const t of Object.values(c.targets)) if (t.kind === 'command') for (const [k, v] of Object.entries(t.env)) (CREDENTIAL_NAME.test(k) ? cred : out).add(v);
  for (const r of c.runners.list) if (r.token) cred.add(r.token);
  for (const s of Object.values(c.mcp.servers)) if ('env' in s) for (const [k, v] of Object.entries(s.env)) (CREDENTIAL_NAME.test(k) ? cred : out).add(v);
  for (const headers of injected) {
    for (const [k, v] of Object.entries(headers)) {
      if (PUBLIC_HEADERS.has(k.toLowerCase())) continue;
      for (const s of credentialVariants(v)) out.add(s);
      for (const s of credentialCores(v)) cred.add(s);
    }
  }
  const ch = c.channels;
  for (const v of [ch?.slack?.botToken, ch?.slack?.signingSecret, ch?.slack?.socketMode?.appToken, ch?.teams?.appPassword, ...(ch?.webhooks ?? []).map((w) => w.secret)]) {
    if (v) cred.add(v);
  }
  // Longest first, so that a secret containing another is replaced whole.
  const list = (s: Set<string>) => [...s].filter((x) => x.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  return { secrets: list(new Set([...out, ...cred])), credentials: list(cred) };
}

/** Credential header values too short to redact reliably are refused: they would be echoed back. */
function shortCredentials(c: Config): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  const injected: Array<[PropertyKey[], Record<string, string>]> = [
    ...Object.entries(c.targets).map(([name, t]): [PropertyKey[], Record<string, string>] => [['targets', name, 'headers'], t.kind === 'http' ? t.headers : {}]),
    ...Object.entries(c.mcp.servers).flatMap(([name, s]): Array<[PropertyKey[], Record<string, string>]> => ('url' in s ? [[['mcp', 'servers', name, 'headers'], s.headers]] : [])),
  ];
  for (const [at, headers] of injected) {
    for (const [k, v] of Object.entries(headers)) {
      if (PUBLIC_HEADERS.has(k.toLowerCase()) || v.trim().split(/\s+/).at(-1)!.length >= MIN_SECRET_LENGTH) continue;
      out.push({ path: [...at, k], message: `a credential shorter than ${MIN_SECRET_LENGTH} characters cannot be redacted safely from responses; use a longer one (or, if this header is not a secret, see PUBLIC_HEADERS in docs/executors.md)` });
    }
  }
  const storePassword = c.store.postgres ? urlPasswordOf(c.store.postgres.url).decoded : '';
  if (storePassword !== '' && storePassword.length < MIN_SECRET_LENGTH) {
    out.push({ path: ['store', 'postgres', 'url'], message: `a database password shorter than ${MIN_SECRET_LENGTH} characters cannot be redacted safely from logs and errors; use a longer one` });
  }
  for (const [name, t] of Object.entries(c.targets)) {
    if (t.kind !== 'postgres') continue;
    for (const [at, url] of [[['url'], t.url], [['preview', 'url'], t.preview.url]] as const) {
      const password = url === undefined ? '' : urlPasswordOf(url).decoded;
      if (password !== '' && password.length < MIN_SECRET_LENGTH) {
        out.push({ path: ['targets', name, ...at], message: `a database password shorter than ${MIN_SECRET_LENGTH} characters cannot be redacted safely from results and errors; use a longer one` });
      }
    }
  }
  return out;
}

/**
 * A postgres target's secrets: its URLs and the TLS key whole; a URL's password as
 * written whole too, and decoded as a credential, redacted also by its runs (any 8
 * characters of it, in any encoding), like an injected token.
 */
function postgresSecrets(t: PostgresTargetConfig): { whole: string[]; credentials: string[] } {
  const whole: string[] = [];
  const credentials: string[] = [];
  for (const url of [t.url, t.preview.url]) {
    if (url === undefined) continue;
    whole.push(url);
    const { raw, decoded } = urlPasswordOf(url);
    if (raw) {
      whole.push(raw);
      credentials.push(decoded);
    }
  }
  if (t.tls?.key) whole.push(t.tls.key);
  return { whole, credentials };
}

/** A URL's password as written (percent-encoded) and decoded; empty when it has none or does not parse. */
function urlPasswordOf(url: string): { raw: string; decoded: string } {
  try {
    const raw = new URL(url).password;
    return { raw, decoded: raw ? decodeURIComponent(raw) : '' };
  } catch {
    return { raw: '', decoded: '' };
  }
}

/**
 * The config for offline tools (policy commands, audit readers), which never use its
 * secrets: an unset `${ENV}` reference gets a placeholder instead of failing.
 */
export function loadConfigWithoutSecrets(file: string): LoadedConfig {
  // A database URL must still parse as one: its host is a fact policy may see.
  return loadConfig(file, process.env, (path) =>
    (path[0] === 'targets' || path[0] === 'store') && path.at(-1) === 'url' ? 'postgres://placeholder-for-an-unset-environment-variable@localhost/placeholder' : 'placeholder-for-an-unset-environment-variable',
  );
}
