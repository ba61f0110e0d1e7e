import type { ExecutionResult } from '../../domain/action-record.js';
import type { Redactor } from '../../domain/redact-secrets.js';

/**
 * Reads a response body up to `max` bytes, then stops: the rest is never read, and
 * the stream is cancelled so the connection is dropped rather than drained.
 */
export async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!body) return { bytes: new Uint8Array(0), truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > max) {
      chunks.push(value.subarray(0, max - total));
      total = max;
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    total += value.byteLength;
  }
  return { bytes: Buffer.concat(chunks, total), truncated };
}

function isJsonType(contentType: string | null): boolean {
  if (!contentType) return false;
  const mime = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return mime === 'application/json' || mime.endsWith('+json');
}

/**
 * A truncated body may end with the first characters of a secret whose rest was cut
 * off, fewer than the redaction window; to be safe, the longest such tail is dropped.
 */
export function trimPartialSecret(text: string, secrets: readonly string[]): string {
  let cut = 0;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (let k = Math.min(s.length - 1, text.length); k > cut; k--) {
      if (text.endsWith(s.slice(0, k))) {
        cut = k;
        break;
      }
    }
  }
  return cut ? text.slice(0, text.length - cut) : text;
}

/** Deeper JSON is kept as text: stored results are serialised and canonicalised recursively downstream. */
export const MAX_JSON_DEPTH = 64;

/** Whether JSON text nests arrays and objects deeper than `max`, scanning brackets outside strings. */
export function jsonTooDeep(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

type StoredBody = Pick<ExecutionResult, 'body' | 'bodyEncoding'>;

/**
 * The body as stored: parsed JSON when labelled JSON, complete, parseable and at most
 * MAX_JSON_DEPTH deep; UTF-8
 * text when the bytes are valid UTF-8; else base64 (bodyEncoding tells which). Secrets
 * are redacted before encoding: in JSON inside each string (so the JSON stays valid),
 * in binary over the bytes (UTF-8 and UTF-16), before base64.
 */
export function decodeBody(bytes: Uint8Array, truncated: boolean, contentType: string | null, redactor: Redactor): StoredBody {
  const { secrets } = redactor;
  if (bytes.byteLength === 0) return {};
  let text: string | undefined;
  try {
    // `stream: true` drops a multi-byte character cut in half by the cap instead of failing.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: truncated });
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    if (!truncated && isJsonType(contentType) && !jsonTooDeep(text, MAX_JSON_DEPTH)) {
      try {
        return { body: redactor.deep(JSON.parse(text) as unknown), bodyEncoding: 'json' };
      } catch {
        // Labelled JSON but not JSON: keep it as text.
      }
    }
    // A cut-off tail first, then the rest: a tail of 8 or more would otherwise leave [REDACTED] where it was.
    return { body: redactor.text(truncated ? trimPartialSecret(text, secrets) : text), bodyEncoding: 'text' };
  }
  // Binary: the tail is trimmed byte-wise (latin1 maps each byte to one char) against the secrets' UTF-8 bytes.
  const kept = truncated ? Buffer.from(trimPartialSecret(Buffer.from(bytes).toString('latin1'), secrets.map((s) => Buffer.from(s, 'utf8').toString('latin1'))), 'latin1') : bytes;
  return { body: Buffer.from(redactor.bytes(kept)).toString('base64'), bodyEncoding: 'base64' };
}

/** Response headers worth keeping: content description, caching validators, redirects, request ids, rate limits. Never set-cookie. */
const KEPT_HEADERS = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-disposition',
  'etag',
  'last-modified',
  'cache-control',
  'date',
  'location',
  'link',
  'retry-after',
  'x-request-id',
  'x-correlation-id',
  'request-id',
  'x-github-request-id',
  'ratelimit',
  'ratelimit-policy',
]);
const KEPT_PREFIXES = ['ratelimit-', 'x-ratelimit-', 'x-rate-limit-'];

export function selectHeaders(headers: Headers, redactor: Redactor): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    // Headers yields lower-case names.
    if (KEPT_HEADERS.has(name) || KEPT_PREFIXES.some((p) => name.startsWith(p))) out[name] = redactor.text(value);
  });
  return out;
}
