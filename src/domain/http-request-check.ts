import type { HttpInput } from './action.js';
import { AppError } from './errors.js';
import { forbiddenHeader } from './http-forbidden-headers.js';
import { readHttpBody } from './http-body-read.js';
import type { BodyInput, HttpBodyRead } from './http-body-read.js';
import { validateHttpInput } from './http-input-validate.js';

/**
 * The pure safety check of `http` actions, shared by the submit path (refuse before
 * any human reviews) and the executor (refuse again before sending). Nothing may leave
 * the target's base URL: its origin and its path prefix.
 *
 * Paths are checked against an allowlist rather than normalised: anything a server
 * might decode or normalise into a traversal is refused with a clear reason, so that
 * the path a human approves is byte for byte the path that is requested.
 */

/** RFC 3986 pchar and `/`, minus `@` (userinfo look-alikes); everything else must be percent-encoded. */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:%/]*$/;
const ABSOLUTE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const MALFORMED_PERCENT = /%(?![0-9A-Fa-f]{2})/;
/**
 * Encodings refused inside a path: `.` `/` `\` (servers and proxies that decode them
 * before routing see a traversal), `%` (double encoding: `%252e` decodes to `%2e`)
 * and control characters.
 */
const ENCODED_FORBIDDEN = /%(2e|2f|5c|25|[01][0-9a-f]|7f)/i;
const ENCODED_ANY = /%([0-9A-Fa-f]{2})/g;
// Tested on one character only: dropping either anchor is an equivalent mutant.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
function hasControl(s: string): boolean {
  // `i <= s.length` reads NaN past the end, which is neither below 0x20 nor 0x7f (an equivalent mutant).
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export const PATH_RULES = [
  'not-absolute-path',
  'absolute-url',
  'scheme-relative',
  'control-character',
  'backslash',
  'userinfo',
  'query-in-path',
  'fragment',
  'character',
  'malformed-encoding',
  'encoded-traversal',
  'encoded-unreserved',
  'path-parameter',
  'empty-segment',
  'dot-segment',
  'encoded-non-utf8',
  'look-alike-segment',
] as const;
export type PathRule = (typeof PATH_RULES)[number];

export interface PathProblem {
  rule: PathRule;
  message: string;
}

/** Why a path (relative to the base URL's path) is unsafe, or undefined when it is safe. */
export function pathProblem(path: string): PathProblem | undefined {
  const p = (rule: PathRule, message: string): PathProblem => ({ rule, message });
  if (ABSOLUTE_URL.test(path)) return p('absolute-url', 'absolute URLs are not allowed: give a path under the target, starting with /');
  if (!path.startsWith('/')) return p('not-absolute-path', 'the path must start with /');
  if (path.startsWith('//')) return p('scheme-relative', 'a path starting with // names another host');
  if (hasControl(path)) return p('control-character', 'the path holds a control character');
  if (path.includes('\\')) return p('backslash', 'the path holds a backslash, which some servers read as /');
  if (path.includes('@')) return p('userinfo', 'the path holds @, which can pass for userinfo; percent-encode it as %40');
  if (path.includes('?')) return p('query-in-path', 'the path holds ?: give query parameters in input.query');
  if (path.includes('#')) return p('fragment', 'the path holds #: fragments are never sent');
  // Servers that strip ;parameters before routing (Tomcat, Jetty, Spring) would see
  // another path than the policy did: /admin;x is /admin to them.
  if (path.includes(';')) return p('path-parameter', 'the path holds ; (a path parameter, which some servers strip before routing): percent-encode it as %3B if it is data');
  if (!PATH_CHARS.test(path)) {
    // Some character fails when the whole path does: `?? ''` is never used (an equivalent mutant).
    const bad = [...path].find((c) => !PATH_CHARS.test(c)) ?? '';
    return p('character', `the path holds ${JSON.stringify(bad)}: percent-encode it`);
  }
  if (MALFORMED_PERCENT.test(path)) return p('malformed-encoding', 'the path holds % not followed by two hex digits');
  const enc = ENCODED_FORBIDDEN.exec(path);
  if (enc) return p('encoded-traversal', `the path holds ${enc[0]}: encoded dots, slashes, backslashes, percent signs and control characters are refused`);
  // RFC 3986 6.2.2.2: %61 and `a` are the same URI, so a policy regex on the literal
  // path could be sidestepped by encoding letters. Unreserved characters must be literal.
  for (const m of path.matchAll(ENCODED_ANY)) {
    const ch = String.fromCharCode(parseInt(m[1]!, 16));
    if (UNRESERVED.test(ch)) return p('encoded-unreserved', `the path holds ${m[0]}, an encoded ${JSON.stringify(ch)}: write unreserved characters as themselves`);
  }
  const segments = path.split('/').slice(1);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    // A trailing slash is an empty last segment and is fine; `//` inside is not.
    if (seg === '' && i < segments.length - 1) return p('empty-segment', 'the path holds an empty segment (//)');
    // `..;x` is `..` to servers that strip path parameters (Tomcat, Jetty); Windows
    // servers trim trailing dots, so any all-dots segment is refused, not just . and ..
    // split returns at least one element: `?? ''` is never used (an equivalent mutant).
    const name = seg.split(';')[0] ?? '';
    if (/^\.+$/.test(name)) return p('dot-segment', 'the path holds a dot segment (., .., ...)');
    // A fast path: a segment without escapes decodes to itself, ASCII that NFKC leaves as it is (equivalent mutants).
    if (seg.includes('%')) {
      const problem = decodedSegmentProblem(seg);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** What a segment must not become once a server decodes and NFKC-normalises it: a dot segment, or a separator. */
const LOOK_ALIKE_DOTS = /^\.+$/;
const LOOK_ALIKE_SEPARATOR = /[/\\%;?#@]/;

/**
 * A segment's escapes must decode to UTF-8 (`%c0%ae` is an overlong `.`, `%ed%a0%80` a
 * surrogate, `%80` a lone continuation byte: lenient decoders turn them into `.` or
 * U+FFFD, strict ones refuse), and the decoded text, NFKC-normalised as some servers and
 * file systems do, must not be a dot segment nor hold a separator (`%EF%BC%8E` is a
 * fullwidth `.`, `%E2%80%A4` a one dot leader, `%EF%BC%8F` a fullwidth `/`). Raw
 * non-ASCII is already refused, so escapes are the only way such text can come in.
 */
function decodedSegmentProblem(seg: string): PathProblem | undefined {
  let text: string;
  try {
    // Escapes are well formed here (checked above): decodeURIComponent fails only on bytes that are not UTF-8.
    text = decodeURIComponent(seg);
  } catch {
    return { rule: 'encoded-non-utf8', message: `the path segment ${JSON.stringify(seg.slice(0, 64))} holds percent escapes that are not UTF-8 (overlong forms, lone bytes or surrogates), which servers decode differently` };
  }
  const nfkc = text.normalize('NFKC');
  if (nfkc !== text && (LOOK_ALIKE_DOTS.test(nfkc) || LOOK_ALIKE_SEPARATOR.test(nfkc))) {
    return { rule: 'look-alike-segment', message: `the path segment ${JSON.stringify(seg.slice(0, 64))} decodes to characters that normalise (NFKC) to ${JSON.stringify(nfkc.slice(0, 32))}: a dot segment or a separator to servers that normalise` };
  }
  return undefined;
}

export interface ParsedBase {
  url: URL;
  /** The base path without its trailing slash: '' for the root. */
  prefix: string;
}

/** Parses a target's baseUrl. Messages never quote it: it may hold a secret (webhook URLs). */
export function parseBaseUrl(baseUrl: string): ParsedBase {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new AppError('CONFIG_INVALID', 'the target\'s baseUrl is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('CONFIG_INVALID', 'the target\'s baseUrl must be http or https');
  if (url.username || url.password) throw new AppError('CONFIG_INVALID', 'the target\'s baseUrl must not hold credentials: inject them as headers');
  if (url.search || url.hash) throw new AppError('CONFIG_INVALID', 'the target\'s baseUrl must not have a query or a fragment');
  return { url, prefix: url.pathname.replace(/\/+$/, '') };
}

/** Query parameters in the input's order, each key and value fully percent-encoded (spaces as %20). */
export function encodeQuery(query: HttpInput['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    for (const x of Array.isArray(v) ? v : [v]) parts.push(`${queryComponent(k)}=${queryComponent(x)}`);
  }
  return parts.join('&');
}

/**
 * encodeURIComponent leaves `'` as it is, but the URL parser encodes it in the query of
 * http(s) URLs: the built URL then differed from what was built and a value such as
 * `O'Brien` was refused as escaping the base URL. `%27` is what the parser sends anyway.
 */
function queryComponent(s: string): string {
  return encodeURIComponent(s).replaceAll("'", '%27');
}

function unsafe(message: string, details: Record<string, unknown>): never {
  throw new AppError('UNSAFE_REQUEST', message, details);
}

/**
 * The URL a validated `http` input resolves to under baseUrl, or UNSAFE_REQUEST.
 * The path is appended to the base path (never resolved relative to it), then the
 * result is parsed again and must be exactly what was built: same origin, base path
 * prefix, nothing normalised away.
 */
export function checkHttpRequest(baseUrl: string, input: HttpInput): URL {
  const base = parseBaseUrl(baseUrl);
  const problem = pathProblem(input.path);
  if (problem) unsafe(`unsafe path: ${problem.message}`, { field: 'path', rule: problem.rule });
  for (const name of Object.keys(input.headers ?? {})) {
    const rule = forbiddenHeader(name);
    if (rule) unsafe(`header "${name}" may not be set by an agent: ${rule.why}`, { field: 'headers', header: name, rule: rule.risk });
  }
  const qs = encodeQuery(input.query);
  const pathname = base.prefix + input.path;
  const search = qs ? `?${qs}` : '';
  const url = new URL(`${base.url.origin}${pathname}${search}`);
  // A second guard: every path pathProblem lets through and every query encodeQuery builds
  // parse back unchanged, so no input reaches this refusal (the mutation campaign's changes
  // to the `if` and the refusal are equivalent; resolvesAsBuilt is tested on its own). It
  // stays in case a parser or a rule above changes.
  if (!resolvesAsBuilt(url, { origin: base.url.origin, pathname, search })) {
    unsafe('unsafe path: it does not resolve under the target\'s base URL', { field: 'path', rule: 'escapes-base' });
  }
  return url;
}

/** Whether a parsed URL is exactly what was built: same origin, path and query, no credentials, no fragment. */
export function resolvesAsBuilt(url: URL, built: { origin: string; pathname: string; search: string }): boolean {
  return url.origin === built.origin && !url.username && !url.password && url.pathname === built.pathname && url.search === built.search && !url.hash;
}

/**
 * The body as the target will read it, or AMBIGUOUS_BODY when it could be read another
 * way than policy reads it. `injectedContentType` is the target's own content-type.
 */
export function checkHttpBody(input: BodyInput, injectedContentType?: string): HttpBodyRead {
  const r = readHttpBody(input, injectedContentType);
  if (!r.ok) throw new AppError('AMBIGUOUS_BODY', r.problem.message, { field: 'body', rule: r.problem.rule });
  return r.read;
}

/**
 * Shape validation, then the safety check, then the body reading: what the submit path
 * and the executor call on an `http` action's input. The body is read from the input
 * object itself, so that the policy facts of the same object reuse the reading.
 */
export function checkHttpAction(baseUrl: string, input: unknown, injectedContentType?: string): { input: HttpInput; url: URL } {
  const valid = validateHttpInput(input);
  const url = checkHttpRequest(baseUrl, valid);
  checkHttpBody(input as BodyInput, injectedContentType);
  return { input: valid, url };
}

export type RedirectCheck = { ok: true; url: URL } | { ok: false; message: string };

/**
 * Where a redirect's Location leads, if it stays under the base URL (same origin and
 * path prefix, and a remaining path that passes the same rules as an agent's path).
 * Cross-origin and scheme changes (http to https) are refused too.
 */
export function checkRedirect(baseUrl: string, current: URL, location: string): RedirectCheck {
  const base = parseBaseUrl(baseUrl);
  let url: URL;
  try {
    url = new URL(location, current);
  } catch {
    return { ok: false, message: 'the redirect Location is not a URL' };
  }
  url.hash = '';
  if (url.origin !== base.url.origin) return { ok: false, message: 'the redirect leads to another origin' };
  if (url.username || url.password) return { ok: false, message: 'the redirect Location holds credentials' };
  if (url.pathname !== base.prefix && !url.pathname.startsWith(`${base.prefix}/`)) {
    return { ok: false, message: 'the redirect leads outside the target\'s base path' };
  }
  const problem = pathProblem(url.pathname.slice(base.prefix.length) || '/');
  if (problem) return { ok: false, message: `the redirect path is unsafe: ${problem.message}` };
  return { ok: true, url };
}
