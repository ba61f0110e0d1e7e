/*
 * Path patterns in standing grants (docs/policy.md, "Path patterns"): `/v1/customers/*\/export`.
 * A pattern is `/`-separated segments, each a literal or `*`, which stands for exactly
 * one non-empty segment. Nothing else is special: no regular expressions, no `**`, no
 * partial wildcards (`cust*`), so a pattern can be compared with another for width.
 */

/** Longest pattern and most segments, as for paths policy reads. */
const MAX_CHARS = 2048;
const MAX_SEGMENTS = 64;
/** RFC 3986 pchar without `*` (the wildcard) and `%` (checked as %XX apart). */
const LITERAL = /^(?:[A-Za-z0-9\-._~!$&'()+,;=:@]|%[0-9A-Fa-f]{2})+$/;
/** What `*` may stand for: a literal segment, or one with `*` in it (also a pchar). */
const ANY_SEGMENT = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/;

export type PathPattern = ReadonlyArray<string | null>;

/** A segment a server could read as a step up or across: `.`, `..` (also percent-encoded), an encoded `/`, `\` or NUL. */
function unsafeSegment(seg: string): boolean {
  const lower = seg.toLowerCase();
  if (/%(?:2f|5c|00)/.test(lower)) return true;
  const dots = lower.replace(/%2e/g, '.');
  return dots === '.' || dots === '..';
}

/** Why `text` is not a path pattern, or undefined when it is one. */
export function pathPatternProblem(text: string): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return 'a path pattern is a non-empty string starting with /';
  if (text.length > MAX_CHARS) return `a path pattern is at most ${MAX_CHARS} characters`;
  if (!text.startsWith('/')) return `path pattern ${JSON.stringify(text)} must start with /`;
  if (text === '/') return undefined;
  const segs = text.slice(1).split('/');
  if (segs.length > MAX_SEGMENTS) return `a path pattern has at most ${MAX_SEGMENTS} segments`;
  for (const seg of segs) {
    if (seg === '') return `path pattern ${JSON.stringify(text)} has an empty segment (// or a trailing /)`;
    if (seg === '*') continue;
    if (seg.includes('*')) return `in path pattern ${JSON.stringify(text)}, * stands for a whole segment: "${seg}" mixes it with other characters`;
    if (!LITERAL.test(seg)) return `path pattern ${JSON.stringify(text)} has a character outside RFC 3986 path characters (or a malformed %XX) in "${seg}"`;
    if (unsafeSegment(seg)) return `path pattern ${JSON.stringify(text)} has a "." or ".." segment or an encoded /, \\ or NUL in "${seg}"`;
  }
  return undefined;
}

/** The pattern's segments, `null` for `*`; call on a pattern pathPatternProblem accepted. */
export function parsePathPattern(text: string): PathPattern {
  return text === '/' ? [] : text.slice(1).split('/').map((s) => (s === '*' ? null : s));
}

export function formatPathPattern(p: PathPattern): string {
  return `/${p.map((s) => s ?? '*').join('/')}`;
}

/** Whether a path (the `http.path` fact) matches: same number of segments, each literal equal, each `*` a safe non-empty segment. */
export function pathMatches(p: PathPattern, path: unknown): boolean {
  if (typeof path !== 'string' || !path.startsWith('/')) return false;
  const segs = path === '/' ? [] : path.slice(1).split('/');
  if (segs.length !== p.length) return false;
  return p.every((want, i) => {
    const seg = segs[i]!;
    return want === null ? ANY_SEGMENT.test(seg) && !unsafeSegment(seg) : seg === want;
  });
}

/** Whether every path `narrow` matches, `wide` matches too (segment by segment). */
export function patternWithin(narrow: PathPattern, wide: PathPattern): boolean {
  return narrow.length === wide.length && narrow.every((s, i) => wide[i] === null || s === wide[i]);
}

/**
 * The narrowest of patterns that all match one path: a segment stays `*` only where
 * every pattern has `*` (elsewhere they share the path's literal).
 */
export function narrowestPattern(patterns: readonly PathPattern[]): PathPattern {
  const first = patterns[0]!;
  return first.map((s, i) => (s !== null ? s : (patterns.find((p) => p[i] !== null)?.[i] ?? null)));
}
