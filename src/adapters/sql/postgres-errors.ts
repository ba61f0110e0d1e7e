import { REDACTED } from '../../domain/redact.js';

/** A database error as it may be shown: SQLSTATE and a message with no secret in it. */
export interface SafeSqlError {
  /** The SQLSTATE (`23505`), or a connection error name (`ECONNREFUSED`). */
  code: string;
  message: string;
  /** 0-based index of the statement that failed, when known. */
  statement?: number;
}

/** The secrets of a connection URL: the URL itself, its password and user, raw and decoded. */
export function urlSecrets(url: string): string[] {
  const out = [url];
  try {
    const u = new URL(url);
    for (const s of [u.password, u.username]) {
      if (!s) continue;
      out.push(s);
      try {
        out.push(decodeURIComponent(s));
      } catch {
        /* not percent-encoded */
      }
    }
  } catch {
    /* not a URL: the whole string is the secret */
  }
  return [...new Set(out.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
}

const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** Whether the error is about reaching the server rather than about a statement. */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && CONNECTION_ERRNOS.has(code)) return true;
  // Class 08: connection exception; 28: invalid authorization; 57P0x: server shutting down.
  return typeof code === 'string' && /^(08|28|57P0)/.test(code);
}

/**
 * Maps anything pg throws to a safe error: the server's own message and SQLSTATE, never
 * its `detail` (which quotes row values: `Key (email)=(a@x.com) already exists`), never
 * the URL or its credentials. When the target masks columns, quoted values in data
 * errors are masked too, whatever the SQLSTATE (`invalid input syntax for type integer:
 * "a@x.com"`, `unrecognized configuration parameter "a@x.com"`), since any of them may
 * be a masked column's value turned into a name.
 */
export function safePgError(e: unknown, secrets: readonly string[], masking: boolean): SafeSqlError {
  const err = (e ?? {}) as { code?: unknown; message?: unknown };
  const code = typeof err.code === 'string' && err.code.length > 0 ? err.code : 'UNKNOWN';
  let message: string;
  if (CONNECTION_ERRNOS.has(code)) message = `could not reach the database (${code})`;
  else if (/^28/.test(code)) message = 'the database refused the gateway\'s credentials';
  else message = typeof err.message === 'string' ? err.message : 'database error';
  // Any SQLSTATE: `unrecognized configuration parameter "<a masked value>"` (42704), `schema "..." does not exist` (3F000).
  if (masking) message = maskQuoted(message);
  return { code, message: redactWhole(message, secrets).slice(0, 2000) };
}

/**
 * The connection's own secrets, replaced whole (longest first) in a driver message: a
 * message quotes them as written, never encoded, and the user name (too short for the
 * config-wide redactor's runs) must go too.
 */
function redactWhole(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join(REDACTED);
  return out;
}

/** Every quoted literal and identifier of a server message, replaced: any may hold a masked value. */
export function maskQuoted(message: string): string {
  return message.replace(/"(?:[^"]|"")*"/g, '"[masked]"').replace(/'(?:[^']|'')*'/g, "'[masked]'");
}
