import type { ConnectionOptions } from 'node:tls';
import { parseDuration } from '../../domain/duration.js';
import type { SqlMaskRule } from '../../domain/sql-mask.js';
import { parseMaskRules } from '../../domain/sql-mask.js';
import type { SqlPreviewMode } from '../../domain/sql-preview.js';
import { parseByteSize } from '../../domain/byte-size.js';

/**
 * The frozen settings a `postgres` target's adapters get (pools, previewer, executor),
 * built once from the target's config by `postgresSettings`. Durations are in ms and
 * sizes in bytes here; the config may write them as `5s` and `1MiB`.
 */
export interface PostgresTargetSettings {
  readonly name: string;
  /** The connection URL with its credentials. Never returned, logged or recorded. */
  readonly url: string;
  /** TLS as node-postgres takes it (`ssl`): false/absent = the URL's sslmode decides. */
  readonly tls?: boolean | ConnectionOptions;
  readonly preview: {
    readonly enabled: boolean;
    readonly mode: SqlPreviewMode;
    /** `select` mode only: a read-only replica to preview on (the primary otherwise). */
    readonly url?: string;
    readonly sampleRows: number;
    readonly timeoutMs: number;
    /** lock_timeout during a `rollback` preview: never wait long behind other sessions' locks. */
    readonly lockTimeoutMs: number;
  };
  readonly limits: {
    readonly statementTimeoutMs: number;
    readonly maxRows: number;
    readonly maxBytes: number;
    readonly exportRows?: number;
  };
  readonly mask: readonly SqlMaskRule[];
  readonly maskParams: boolean;
  /** Connections per pool (each target has one pool, and one for its preview URL). */
  readonly poolSize: number;
}

/** A target's config as written (durations as `5s` or ms, sizes as `1MiB` or bytes). */
export interface PostgresTargetInput {
  url: string;
  tls?: boolean | ConnectionOptions;
  preview?: { enabled?: boolean; mode?: SqlPreviewMode; url?: string; sampleRows?: number; timeout?: string | number; lockTimeout?: string | number };
  limits?: { statementTimeout?: string | number; maxRows?: number; maxBytes?: string | number; exportRows?: number };
  mask?: readonly string[];
  maskParams?: boolean;
  poolSize?: number;
}

/** A size from config (`1MiB`, `512KiB` or bytes), parsed as the config schema checks it. */
function byteSize(v: string | number): number {
  const n = parseByteSize(v);
  if (n === undefined) throw new Error(`invalid size "${v}": use bytes or a unit such as 512KiB, 1MiB, 10MB`);
  return n;
}

const ms = (v: string | number | undefined, fallback: number) => (v === undefined ? fallback : typeof v === 'number' ? v : parseDuration(v));

export const POSTGRES_DEFAULTS = {
  sampleRows: 5,
  previewTimeoutMs: 5_000,
  lockTimeoutMs: 1_000,
  statementTimeoutMs: 30_000,
  maxRows: 1_000,
  maxBytes: 1024 * 1024,
  poolSize: 5,
} as const;

export function postgresSettings(name: string, cfg: PostgresTargetInput): PostgresTargetSettings {
  const previewTimeoutMs = ms(cfg.preview?.timeout, POSTGRES_DEFAULTS.previewTimeoutMs);
  const settings: PostgresTargetSettings = {
    name,
    url: cfg.url,
    ...(cfg.tls !== undefined ? { tls: cfg.tls } : {}),
    preview: {
      enabled: cfg.preview?.enabled ?? true,
      mode: cfg.preview?.mode ?? 'rollback',
      ...(cfg.preview?.url ? { url: cfg.preview.url } : {}),
      sampleRows: cfg.preview?.sampleRows ?? POSTGRES_DEFAULTS.sampleRows,
      timeoutMs: previewTimeoutMs,
      lockTimeoutMs: Math.min(ms(cfg.preview?.lockTimeout, POSTGRES_DEFAULTS.lockTimeoutMs), previewTimeoutMs),
    },
    limits: {
      statementTimeoutMs: ms(cfg.limits?.statementTimeout, POSTGRES_DEFAULTS.statementTimeoutMs),
      maxRows: cfg.limits?.maxRows ?? POSTGRES_DEFAULTS.maxRows,
      maxBytes: cfg.limits?.maxBytes === undefined ? POSTGRES_DEFAULTS.maxBytes : byteSize(cfg.limits.maxBytes),
      ...(cfg.limits?.exportRows !== undefined ? { exportRows: cfg.limits.exportRows } : {}),
    },
    mask: Object.freeze(parseMaskRules(cfg.mask ?? [])),
    maskParams: cfg.maskParams ?? false,
    poolSize: cfg.poolSize ?? POSTGRES_DEFAULTS.poolSize,
  };
  return Object.freeze(settings);
}
