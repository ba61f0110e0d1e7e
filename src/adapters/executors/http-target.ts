import type { HttpTargetConfig } from '../../config/schema.js';
import { parseDuration } from '../../domain/duration.js';
import { AppError } from '../../domain/errors.js';
import { forbiddenHeader } from '../../domain/http-forbidden-headers.js';
import { isHeaderName, isHeaderValue } from '../../domain/http-input-validate.js';
import { parseBaseUrl } from '../../domain/http-request-check.js';
import { PUBLIC_HEADERS, credentialCores, credentialVariants } from '../../domain/redact.js';

/** A target as the executor uses it: parsed once at start-up, then frozen. */
export interface PreparedHttpTarget {
  readonly baseUrl: string;
  /** Injected headers, lower-case names. They override the agent's. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly followRedirects: number;
}

function bad(name: string, message: string): never {
  // Never quote a header value or the base URL: either may be a secret.
  throw new AppError('CONFIG_INVALID', `targets.${name}: ${message}`, { target: name });
}

/**
 * Checks what the config schema cannot: injected headers must be sendable and must
 * not touch framing or the connection (fetch would reject them or, for host, drop them
 * silently). Throws CONFIG_INVALID, so a bad target fails at start rather than per action.
 */
export function prepareHttpTarget(name: string, cfg: HttpTargetConfig): PreparedHttpTarget {
  try {
    parseBaseUrl(cfg.baseUrl);
  } catch (e) {
    bad(name, (e as Error).message);
  }
  const headers: Array<readonly [string, string]> = [];
  const seen = new Set<string>();
  for (const [rawName, value] of Object.entries(cfg.headers)) {
    const h = rawName.toLowerCase();
    if (!isHeaderName(rawName)) bad(name, `header "${rawName}" is not a valid HTTP token`);
    if (seen.has(h)) bad(name, `header "${rawName}" is given twice with different case`);
    seen.add(h);
    if (!isHeaderValue(value)) bad(name, `the value of header "${rawName}" holds a control or non-Latin-1 character`);
    const rule = forbiddenHeader(h);
    if (rule && (rule.risk === 'framing' || rule.risk === 'hop-by-hop' || h === 'host')) bad(name, `header "${rawName}" cannot be injected: ${rule.why}`);
    headers.push([h, value] as const);
  }
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(cfg.timeout);
  } catch (e) {
    bad(name, (e as Error).message);
  }
  return Object.freeze({
    baseUrl: cfg.baseUrl,
    headers: Object.freeze(headers),
    timeoutMs,
    maxResponseBytes: cfg.maxResponseBytes,
    followRedirects: cfg.followRedirects,
  });
}

/**
 * Secrets a target may echo back: every injected header value but the public ones, with
 * its credential part and a decoded Basic pair (the same rule as config/load.ts).
 */
export function targetSecrets(cfg: HttpTargetConfig): string[] {
  return Object.entries(cfg.headers).flatMap(([k, v]) => (PUBLIC_HEADERS.has(k.toLowerCase()) ? [] : credentialVariants(v)));
}

/** The secrets above any run of which is secret: credential parts and Basic passwords. */
export function targetCredentials(cfg: HttpTargetConfig): string[] {
  return Object.entries(cfg.headers).flatMap(([k, v]) => (PUBLIC_HEADERS.has(k.toLowerCase()) ? [] : credentialCores(v)));
}
