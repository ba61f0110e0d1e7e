import { decodeForm } from './form-decode.js';
import type { FormBodyRule } from './form-decode.js';
import { FORM_MEDIA_TYPE, isJsonMediaType, parseMediaType } from './http-media-type.js';
import type { MediaType } from './http-media-type.js';
import { jsonValueProblem, parseStrictJson } from './json-strict-parse.js';
import type { JsonBodyRule } from './json-strict-parse.js';

/**
 * An `http` action's body as the target will read it, which is what policy must see:
 * a string labelled JSON is parsed, a form is decoded into fields, and a string that is
 * a JSON object or array is parsed whatever its label (many servers parse JSON without
 * looking at Content-Type). What cannot be read one way only is a problem, and the
 * action is refused. The input keeps the exact string, so the fingerprint still binds
 * the bytes sent; this reading is only what policy sees.
 */

/** How policy reads the body: not at all (none), parsed JSON, decoded form fields, or an opaque string (text). */
export const BODY_KINDS = ['none', 'json', 'form', 'text'] as const;
export type BodyKind = (typeof BODY_KINDS)[number];

export type BodyRule = JsonBodyRule | FormBodyRule | 'content-type' | 'charset' | 'object-not-json';

export interface HttpBodyRead {
  kind: BodyKind;
  /** The effective media type (`type/subtype`, lower case), '' when none is set. */
  contentType: string;
  /** The parsed JSON, the form fields, the string, or undefined for no body. */
  value: unknown;
}

export interface BodyProblem {
  rule: BodyRule;
  message: string;
}

export type BodyReadResult = { ok: true; read: HttpBodyRead } | { ok: false; problem: BodyProblem };

/** The fields of an http input this reads; loosely typed, since `policy test` facts come from files. */
export interface BodyInput {
  method?: unknown;
  headers?: unknown;
  body?: unknown;
}

const fail = (rule: BodyRule, message: string): BodyReadResult => ({ ok: false, problem: { rule, message } });
const read = (kind: BodyKind, contentType: string, value: unknown): BodyReadResult => ({ ok: true, read: { kind, contentType, value } });

/** The agent's Content-Type value, whatever the case of its name; undefined when absent, null when given twice. */
function agentContentType(headers: unknown): string | undefined | null {
  if (typeof headers !== 'object' || headers === null) return undefined;
  let found: string | undefined | null;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== 'content-type') continue;
    if (found !== undefined || typeof v !== 'string') return null;
    found = v;
  }
  return found;
}

/** JSON whitespace, then `{` or `[`: what a server that sniffs would take for JSON. */
function looksLikeJson(s: string, from: number): boolean {
  let i = from;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  return s[i] === '{' || s[i] === '[';
}

function readUncached(input: BodyInput, injected: string | undefined): BodyReadResult {
  const given = injected ?? agentContentType(input.headers);
  if (given === null) return fail('content-type', 'the content-type header is given more than once');
  let media: MediaType | undefined;
  if (given !== undefined) {
    const m = parseMediaType(given);
    if (typeof m === 'string') return fail('content-type', `the content-type cannot be read as one media type: ${m}`);
    media = m;
  }
  const ct = media?.essence ?? '';
  const body = input.body;
  if (body === undefined || body === null || input.method === 'GET' || input.method === 'HEAD') return read('none', ct, undefined);

  if (typeof body !== 'string') {
    // Sent as JSON text: a form or text label would have the target read that text another way.
    if (media && !isJsonMediaType(ct)) return fail('object-not-json', `a body given as a JSON value is sent as JSON, but the content-type says ${ct}: send it as a string, or label it JSON`);
    const p = jsonValueProblem(body);
    return p ? fail(p.rule, `the body: ${p.message}`) : read('json', ct, body);
  }

  // The gateway sends strings as UTF-8: a label naming another charset makes the target decode other text.
  const charset = media?.params.get('charset');
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) return fail('charset', `the body is sent as UTF-8, but the content-type says charset=${charset}`);
  if (media && isJsonMediaType(ct)) {
    const r = parseStrictJson(body);
    return r.ok ? read('json', ct, r.value) : fail(r.rule, `the JSON body cannot be read one way only: ${r.message}`);
  }
  if (ct === FORM_MEDIA_TYPE) {
    const r = decodeForm(body);
    return r.ok ? read('form', ct, r.value) : fail(r.rule, `the form body cannot be read one way only: ${r.message}`);
  }
  if (body.charCodeAt(0) === 0xfeff && looksLikeJson(body, 1)) {
    return fail('byte-order-mark', 'the body is JSON after a byte order mark, which some servers skip and others refuse');
  }
  if (looksLikeJson(body, 0)) {
    const r = parseStrictJson(body);
    if (r.ok) return read('json', ct, r.value);
    if (r.rule !== 'not-json') return fail(r.rule, `the body is JSON (whatever its content-type, servers may parse it) but cannot be read one way only: ${r.message}`);
  }
  return read('text', ct, body);
}

interface Memo {
  body: unknown;
  headers: unknown;
  contentType: string | undefined | null;
  injected: string | undefined;
  result: BodyReadResult;
}

/**
 * Memoised per input object: the submit check and the policy facts read the same input
 * one after the other, and a large body should be parsed once. An entry is reused only
 * while the body and content type are the very same values.
 */
const memo = new WeakMap<object, Memo>();

/**
 * Reads an http input's body as the target will. `injectedContentType` is the target's
 * own content-type header, which replaces the agent's when the request is sent.
 */
export function readHttpBody(input: BodyInput, injectedContentType?: string): BodyReadResult {
  const contentType = agentContentType(input.headers);
  const m = memo.get(input);
  if (m && m.body === input.body && m.headers === input.headers && m.contentType === contentType && m.injected === injectedContentType) return m.result;
  const result = readUncached(input, injectedContentType);
  memo.set(input, { body: input.body, headers: input.headers, contentType, injected: injectedContentType, result });
  return result;
}
