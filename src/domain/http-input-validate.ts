import type { HttpInput, HttpMethod } from './action.js';
import { HTTP_METHODS } from './action.js';
import { AppError } from './errors.js';

/** RFC 9110 §5.6.2 token: what a header name may be. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 9110 §5.5 field value: HTAB, SP, visible ASCII and obs-text; never CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/**
 * What an agent's header value may hold: HTAB, SP and visible ASCII. obs-text (bytes
 * 0x80-0xff) is refused: servers decode it as Latin-1, as UTF-8 (where `\xc0\xae` is an
 * overlong `.`) or with replacement characters, so the target may read another value
 * than the reviewer saw.
 */
const AGENT_FIELD_VALUE = /^[\t\x20-\x7e]*$/;

export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

export function isHeaderValue(value: string): boolean {
  return FIELD_VALUE.test(value);
}

export const HTTP_INPUT_LIMITS = { pathChars: 8192, headers: 100, headerValueChars: 8192, queryKeys: 256 } as const;

const KEYS = new Set(['method', 'path', 'query', 'headers', 'body']);

function fail(message: string, details?: Record<string, unknown>): never {
  throw new AppError('VALIDATION_FAILED', message, details);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when the string holds a lone surrogate: it cannot be UTF-8 encoded into a URL. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

function validateQuery(q: unknown): Record<string, string | string[]> {
  if (!isPlainObject(q)) fail('input.query must be an object of strings or string arrays');
  const entries = Object.entries(q);
  if (entries.length > HTTP_INPUT_LIMITS.queryKeys) fail(`input.query has more than ${HTTP_INPUT_LIMITS.queryKeys} keys`);
  for (const [k, v] of entries) {
    if (k === '' || hasLoneSurrogate(k)) fail('input.query keys must be non-empty well-formed strings', { key: k });
    const values = Array.isArray(v) ? (v as unknown[]) : [v];
    for (const x of values) {
      if (typeof x !== 'string') fail(`input.query.${k} must be a string or an array of strings`, { key: k });
      if (hasLoneSurrogate(x)) fail(`input.query.${k} is not a well-formed string`, { key: k });
    }
  }
  return q as Record<string, string | string[]>;
}

function validateHeaders(h: unknown): Record<string, string> {
  if (!isPlainObject(h)) fail('input.headers must be an object of strings');
  const entries = Object.entries(h);
  if (entries.length > HTTP_INPUT_LIMITS.headers) fail(`input.headers has more than ${HTTP_INPUT_LIMITS.headers} headers`);
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    if (!TOKEN.test(name)) fail(`header name "${name}" is not a valid HTTP token`, { header: name });
    // Two spellings of one name: which would win is not visible to the reviewer.
    if (seen.has(name.toLowerCase())) fail(`header "${name}" is given twice with different case`, { header: name });
    seen.add(name.toLowerCase());
    if (typeof value !== 'string') fail(`header "${name}" must be a string`, { header: name });
    if (value.length > HTTP_INPUT_LIMITS.headerValueChars) fail(`header "${name}" is longer than ${HTTP_INPUT_LIMITS.headerValueChars} characters`, { header: name });
    if (!AGENT_FIELD_VALUE.test(value)) fail(`header "${name}" holds a control character (CR, LF, NUL...) or a non-ASCII character`, { header: name });
  }
  return h as Record<string, string>;
}

/**
 * Checks the shape of an `http` action's input: method, path type, query and header
 * syntax, body presence. Unknown keys are refused because they would be fingerprinted
 * and shown to reviewers without having any effect. Throws VALIDATION_FAILED.
 * Whether the request stays under the target is checkHttpRequest's job.
 */
export function validateHttpInput(input: unknown): HttpInput {
  if (!isPlainObject(input)) fail('input must be an object with method and path');
  for (const k of Object.keys(input)) if (!KEYS.has(k)) fail(`input.${k} is not a field of an http action (method, path, query, headers, body)`, { key: k });
  const { method, path, query, headers, body } = input;
  // The typeof test narrows the type for the compiler; includes() alone refuses a non-string too (an equivalent mutant).
  if (typeof method !== 'string' || !(HTTP_METHODS as readonly string[]).includes(method)) {
    fail(`input.method must be one of ${HTTP_METHODS.join(', ')}`, { method });
  }
  if (typeof path !== 'string' || path === '') fail('input.path must be a non-empty string starting with /');
  if (path.length > HTTP_INPUT_LIMITS.pathChars) fail(`input.path is longer than ${HTTP_INPUT_LIMITS.pathChars} characters`);
  const out: HttpInput = { method: method as HttpMethod, path };
  if (query !== undefined) out.query = validateQuery(query);
  if (headers !== undefined) out.headers = validateHeaders(headers);
  // `null` means no body, like absence: JSON clients often send it.
  if (body !== undefined && body !== null) {
    if (method === 'GET' || method === 'HEAD') fail(`a ${method} request has no body; remove input.body`);
    out.body = body;
  }
  return out;
}
