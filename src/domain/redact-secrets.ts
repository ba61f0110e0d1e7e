import type { ByteAutomaton } from './redact-automaton.js';
import { buildByteAutomaton } from './redact-automaton.js';
import { foldByte, MIN_REDACT_WINDOW, secretPatterns, TAG_BASE64 } from './redact-forms.js';
import { credentialCores, REDACTED } from './redact.js';
import { setOwn } from './own-key.js';

export { REDACTED };
// REDACTED is ASCII: its latin1 bytes are its UTF-8 bytes (the encoding's mutant is equivalent).
const REDACTED_BYTES = Buffer.from(REDACTED, 'latin1');

/**
 * Removes configured secrets from what targets send back: every run of `window`
 * consecutive characters of a secret, as written or case-folded, percent-encoded (either
 * hex case, `+` for space), hex, base64 or base64url at any alignment, and in UTF-16LE/BE
 * (see redact-forms.ts). Built once per config; each call is one pass over the text per
 * view (two when the text holds `%`), whatever the number of secrets.
 */
export interface Redactor {
  /** The secrets, longest first (for callers that need them whole, e.g. a cut-off tail). */
  readonly secrets: readonly string[];
  /** The secrets matched by runs (the others only whole). */
  readonly credentials: ReadonlySet<string>;
  /** Size of the automaton, for benchmarks: states and bytes of its table. */
  readonly size: { states: number; bytes: number };
  text(s: string): string;
  /** Bytes scanned as bytes (UTF-8, UTF-16, hex, base64...), before they are encoded for storage. */
  bytes(b: Uint8Array): Uint8Array;
  /** A copy of plain JSON data with every string (keys too) redacted; `__proto__` keys kept as data. */
  deep<T>(value: T): T;
}

/** Matched spans of the source, merged as they come (most matches extend the previous span). */
class Spans {
  // spansOf empties both before each use: their first contents never count (an equivalent mutant).
  starts: number[] = [];
  ends: number[] = [];
  add(s: number, e: number): void {
    const n = this.starts.length;
    // Merging here only keeps the lists short: union() sorts and merges again, so every mutant of
    // these tests but "always merge" (killed) is equivalent.
    if (n && s <= this.ends[n - 1]! && e >= this.starts[n - 1]!) {
      if (s < this.starts[n - 1]!) this.starts[n - 1] = s;
      if (e > this.ends[n - 1]!) this.ends[n - 1] = e;
    } else {
      this.starts.push(s);
      this.ends.push(e);
    }
  }
  /** The union of the spans, sorted: overlapping matches from both views and both automata collapse. */
  union(): Array<[number, number]> {
    const all = this.starts.map((s, i): [number, number] => [s, this.ends[i]!]).sort((a, b) => a[0] - b[0]);
    const out: Array<[number, number]> = [];
    for (const [s, e] of all) {
      const last = out[out.length - 1];
      // Touching spans merge too (`s <= last[1]`): one marker for two secrets side by side (tested).
      if (last && s <= last[1]) last[1] = Math.max(last[1], e);
      else out.push([s, e]);
    }
    return out;
  }
}

// `i <= 16` writes HEX[NaN], which a typed array ignores (an equivalent mutant).
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
const B64 = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') B64[c.charCodeAt(0)] = 1;

const SCRATCH = new Uint8Array(4);

/** Widens a base64 match by the characters only partly the secret's, and its `=` padding. */
function widenBase64(text: string, s: number, e: number, spans: Spans): void {
  const n = text.length;
  // Equivalent mutants here: charCodeAt out of range is NaN (fails every test), and B64 says no for
  // every code from 0x80 (0 up to 0xff, undefined beyond), so the `< 0x80` tests are a second guard.
  if (s > 0 && text.charCodeAt(s - 1) < 0x80 && B64[text.charCodeAt(s - 1)]) s--;
  if (e < n && text.charCodeAt(e) < 0x80 && B64[text.charCodeAt(e)]) e++;
  for (let pad = 0; pad < 2 && e < n && text.charCodeAt(e) === 0x3d; pad++) e++;
  spans.add(s, e);
}

/** Records a match ending in the state at row offset `at`, from source index `from` to `to`; returns the offset. */
function hit(a: ByteAutomaton, text: string, at: number, from: number, to: number, spans: Spans): number {
  if (a.tag[at / a.width] === TAG_BASE64) widenBase64(text, from, to, spans);
  else spans.add(from, to);
  return at;
}

const isHexAt = (text: string, i: number) => {
  const c = text.charCodeAt(i);
  // HEX is -1 from 0x80 to 0xff and undefined beyond: `c < 0x80` is a second guard (equivalent mutants).
  return c < 0x80 && HEX[c]! >= 0;
};

/**
 * Feeds one view of `text` (as written, or percent-decoded) through the automaton and
 * adds the span of every match. A string is fed as its UTF-8 bytes; in `bytes` mode
 * each code unit is a byte (the latin1 reading of a binary body). The hot loop is kept
 * free of closures and property reads: this runs over every byte of every response.
 */
function scan(text: string, bytes: boolean, decode: boolean, a: ByteAutomaton, ring: Int32Array, spans: Spans, from = 0, end = text.length): void {
  const mask = ring.length - 1;
  const classOf = a.classOf;
  const next = a.next;
  const buf = SCRATCH;
  const n = end;
  let state = 0;
  let k = 0;
  // `i <= n` would feed NaN past the end as the bytes E0 80 80, completing a pattern that ends so (the
  // UTF-16 of U+E0xx U+8080): tested, as is the decoded view's end (`Math.min` in spansOf).
  for (let i = from; i < n; ) {
    const c = text.charCodeAt(i);
    // One byte, the common case, without the scratch buffer. `c !== 0x25 || decode` is equivalent: the
    // plain view would decode and the other not, and the union of the two views is the same.
    if ((c < 0x80 || bytes) && (c !== 0x25 || !decode)) {
      ring[k & mask] = i;
      state = next[state + classOf[c]!]!;
      if (state < 0) state = hit(a, text, -state, ring[(k - a.longest[-state / a.width]! + 1) & mask]!, i + 1, spans);
      k++;
      i++;
      continue;
    }
    let count = 1;
    let to = i + 1;
    if (c < 0x80 || bytes) {
      // Past the end isHexAt is false, so the `i + 2 < n` test is a second guard (equivalent mutants);
      // both digits must be hex: `%z4` and `%4z` are not escapes (tested).
      if (i + 2 < n && isHexAt(text, i + 1) && isHexAt(text, i + 2)) {
        buf[0] = HEX[text.charCodeAt(i + 1)]! * 16 + HEX[text.charCodeAt(i + 2)]!;
        to = i + 3;
      } else buf[0] = c;
    } else if (c < 0x800) {
      buf[0] = 0xc0 | (c >> 6);
      buf[1] = 0x80 | (c & 0x3f);
      count = 2;
    } else {
      let cp = c;
      if (c >= 0xd800 && c <= 0xdfff) {
        // Past the end charCodeAt is NaN, which fails the tests below as 0 does (equivalent mutants).
        const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          // `c + 0xd800` adds 0x6C00000: bits 22 and up, which the masks below drop (an equivalent mutant).
          cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          to = i + 2;
        } else cp = 0xfffd; // a lone surrogate, as TextEncoder writes it
      }
      if (cp >= 0x10000) {
        buf[0] = 0xf0 | (cp >> 18);
        buf[1] = 0x80 | ((cp >> 12) & 0x3f);
        buf[2] = 0x80 | ((cp >> 6) & 0x3f);
        buf[3] = 0x80 | (cp & 0x3f);
        count = 4;
      } else {
        buf[0] = 0xe0 | (cp >> 12);
        buf[1] = 0x80 | ((cp >> 6) & 0x3f);
        buf[2] = 0x80 | (cp & 0x3f);
        count = 3;
      }
    }
    for (let j = 0; j < count; j++) {
      ring[k & mask] = i;
      // Table entries are row offsets, negative when a pattern ends in that state.
      state = next[state + classOf[buf[j]!]!]!;
      if (state < 0) state = hit(a, text, -state, ring[(k - a.longest[-state / a.width]! + 1) & mask]!, to, spans);
      k++;
    }
    i = to;
  }
}

function spansOf(text: string, bytes: boolean, a: ByteAutomaton, ring: Int32Array, spans: Spans): Array<[number, number]> {
  spans.starts.length = 0;
  spans.ends.length = 0;
  scan(text, bytes, false, a, ring, spans);
  // The percent-decoded view differs only around escapes, and a match that holds one
  // lies within maxLength bytes of it. Between escapes of one stretch every character
  // is at least one byte, so maxLength characters on either side of a stretch of escapes
  // (each within reach of the next) hold any such match: only those stretches are fed again.
  const reach = a.maxLength;
  // Equivalent mutants of this loop only scan more: `indexOf('')` (from 0), `Math.min(0, ...)` (from the
  // start), `indexOf('', p + 1)` or `p - 1` (one more character or the same %), `q <= to` or
  // always (longer stretches), `q > 0` (q > p >= 0). Not `Math.max(text.length, to)`: see scan's loop test.
  for (let p = text.indexOf('%'); p >= 0; ) {
    const from = Math.max(0, p - reach);
    let to = p + 3 + reach;
    let q = text.indexOf('%', p + 1);
    while (q >= 0 && q < to) {
      to = q + 3 + reach;
      q = text.indexOf('%', q + 1);
    }
    scan(text, bytes, true, a, ring, spans, from, Math.min(text.length, to));
    p = q;
  }
  return spans.starts.length ? spans.union() : [];
}

export interface RedactorOptions {
  /** Run length (config `redaction.window`); MIN_REDACT_WINDOW by default. */
  window?: number;
  /**
   * The secrets any run of which is secret (tokens, credential parts); the others (a
   * whole `Bearer x` value, a URL taken from the environment) are matched only whole,
   * in every form. When absent, each secret's credential part (see credentialCores).
   */
  credentials?: readonly string[];
}

export function createRedactor(secrets: readonly string[], options: RedactorOptions = {}): Redactor {
  const window = options.window ?? MIN_REDACT_WINDOW;
  const runs = new Set(options.credentials ?? secrets.flatMap((s) => (s.length > 0 && !/\s/.test(s) ? [s] : credentialCores(s))));
  const sorted = Object.freeze([...new Set([...secrets, ...runs])].sort((a, b) => b.length - a.length));
  const patterns = secretPatterns(sorted.map((value) => ({ value, window: runs.has(value) ? window : value.length })));
  const automaton = buildByteAutomaton(patterns, foldByte);
  const empty = patterns.length === 0;
  let ringSize = 1;
  // `<=` doubles once more: a larger ring (an equivalent mutant).
  while (ringSize < automaton.maxLength) ringSize *= 2;
  // Reused by every call (ring and spans): scanning is synchronous, so calls never interleave.
  const ring = new Int32Array(ringSize);
  const spans = new Spans();
  // A string this short cannot hold the shortest pattern (at most 3 UTF-8 bytes a code unit).
  const shortest = Math.ceil(automaton.minLength / 3);

  // The early returns below are fast paths: without them an empty automaton or a short text finds
  // nothing and the same string comes back (equivalent mutants); bytes' `found.length` one is tested
  // (the very input comes back).
  function text(s: string): string {
    if (empty || s.length < shortest) return s;
    const found = spansOf(s, false, automaton, ring, spans);
    if (found.length === 0) return s;
    let out = '';
    let at = 0;
    for (const [from, to] of found) {
      out += s.slice(at, from) + REDACTED;
      at = to;
    }
    return out + s.slice(at);
  }

  function bytes(bs: Uint8Array): Uint8Array {
    if (empty || bs.length === 0) return bs;
    const found = spansOf(Buffer.from(bs.buffer, bs.byteOffset, bs.byteLength).toString('latin1'), true, automaton, ring, spans);
    if (found.length === 0) return bs;
    const parts: Uint8Array[] = [];
    let at = 0;
    for (const [from, to] of found) {
      parts.push(bs.subarray(at, from), REDACTED_BYTES);
      at = to;
    }
    parts.push(bs.subarray(at));
    return Buffer.concat(parts);
  }

  /** Keys repeat across the objects of an array: each is redacted once per call. */
  function copy(value: unknown, keys: Map<string, string>): unknown {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map((v: unknown) => copy(v, keys));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        let key = keys.get(k);
        // A cache: recomputing each key gives the same copy (an equivalent mutant).
        if (key === undefined) keys.set(k, (key = text(k)));
        setOwn(out, key, copy(v, keys));
      }
      return out;
    }
    return value;
  }

  function deep<T>(value: T): T {
    return empty ? value : (copy(value, new Map()) as T);
  }


  const size = { states: automaton.longest.length, bytes: automaton.next.byteLength };
  return Object.freeze({ secrets: sorted, credentials: runs, size, text, bytes, deep });
}
