import type { ByteAutomaton } from './redact-automaton.js';
import { buildByteAutomaton } from './redact-automaton.js';
import { foldBase64, foldText, MIN_REDACT_WINDOW, secretPatterns } from './redact-forms.js';
import { credentialCores, REDACTED } from './redact.js';

export { REDACTED };
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
  text(s: string): string;
  /** Bytes scanned as bytes (UTF-8, UTF-16, hex, base64...), before they are encoded for storage. */
  bytes(b: Uint8Array): Uint8Array;
  /** A copy of plain JSON data with every string (keys too) redacted; `__proto__` keys kept as data. */
  deep<T>(value: T): T;
}

/** Matched spans of the source, merged as they come (most matches extend the previous span). */
class Spans {
  starts: number[] = [];
  ends: number[] = [];
  add(s: number, e: number): void {
    const n = this.starts.length;
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
      if (last && s <= last[1]) last[1] = Math.max(last[1], e);
      else out.push([s, e]);
    }
    return out;
  }
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
const B64 = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') B64[c.charCodeAt(0)] = 1;

/** A source the scanner reads: a string (UTF-16 code units) or bytes. */
interface Source {
  readonly length: number;
  at(i: number): number;
}

/**
 * Feeds one view of the source (as written, or percent-decoded) through both automata,
 * adding the span of every match. A base64 match is widened by the characters that are
 * only partly the secret's, and its `=` padding.
 */
function scan(src: Source, isString: boolean, decode: boolean, t: ByteAutomaton, b: ByteAutomaton, ring: Int32Array, spans: Spans): void {
  const mask = ring.length - 1;
  const { classOf: tc, width: tw, next: tn, longest: tl } = t;
  const { classOf: bc, width: bw, next: bn, longest: bl } = b;
  const n = src.length;
  let ts = 0;
  let bs = 0;
  let k = 0;
  const feed = (byte: number, from: number, to: number) => {
    ring[k & mask] = from;
    ts = tn[ts * tw + tc[byte]!]!;
    let len = tl[ts]!;
    if (len !== 0) spans.add(ring[(k - len + 1) & mask]!, to);
    bs = bn[bs * bw + bc[byte]!]!;
    len = bl[bs]!;
    if (len !== 0) {
      let s = ring[(k - len + 1) & mask]!;
      let e = to;
      if (s > 0 && B64[src.at(s - 1) & 0xff] && src.at(s - 1) < 0x80) s--;
      if (e < n && B64[src.at(e) & 0xff] && src.at(e) < 0x80) e++;
      for (let pad = 0; pad < 2 && e < n && src.at(e) === 0x3d; pad++) e++;
      spans.add(s, e);
    }
    k++;
  };
  for (let i = 0; i < n; ) {
    const c = src.at(i);
    if (decode && c === 0x25 && i + 2 < n && HEX[src.at(i + 1) & 0xff]! >= 0 && HEX[src.at(i + 2) & 0xff]! >= 0 && src.at(i + 1) < 0x80 && src.at(i + 2) < 0x80) {
      feed(HEX[src.at(i + 1)]! * 16 + HEX[src.at(i + 2)]!, i, i + 3);
      i += 3;
    } else if (c < 0x80 || !isString) {
      feed(c, i, i + 1);
      i++;
    } else if (c < 0x800) {
      feed(0xc0 | (c >> 6), i, i + 1);
      feed(0x80 | (c & 0x3f), i, i + 1);
      i++;
    } else {
      let cp = c;
      let w = 1;
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? src.at(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          w = 2;
        } else cp = 0xfffd; // a lone surrogate, as TextEncoder writes it
      }
      if (cp >= 0x10000) {
        feed(0xf0 | (cp >> 18), i, i + w);
        feed(0x80 | ((cp >> 12) & 0x3f), i, i + w);
      } else feed(0xe0 | (cp >> 12), i, i + w);
      feed(0x80 | ((cp >> 6) & 0x3f), i, i + w);
      feed(0x80 | (cp & 0x3f), i, i + w);
      i += w;
    }
  }
}

function spansOf(src: Source, isString: boolean, hasPercent: boolean, t: ByteAutomaton, b: ByteAutomaton, ring: Int32Array): Array<[number, number]> {
  const spans = new Spans();
  scan(src, isString, false, t, b, ring, spans);
  if (hasPercent) scan(src, isString, true, t, b, ring, spans);
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
  const t = buildByteAutomaton(patterns.text, foldText);
  const b = buildByteAutomaton(patterns.base64, foldBase64);
  const empty = patterns.text.length === 0 && patterns.base64.length === 0;
  let size = 1;
  while (size < Math.max(t.maxLength, b.maxLength, 1)) size *= 2;
  // Reused by every call: scanning is synchronous, so calls never interleave.
  const ring = new Int32Array(size);

  function text(s: string): string {
    if (empty || s.length === 0) return s;
    const spans = spansOf({ length: s.length, at: (i) => s.charCodeAt(i) }, true, s.includes('%'), t, b, ring);
    if (spans.length === 0) return s;
    let out = '';
    let at = 0;
    for (const [from, to] of spans) {
      out += s.slice(at, from) + REDACTED;
      at = to;
    }
    return out + s.slice(at);
  }

  function bytes(bs: Uint8Array): Uint8Array {
    if (empty || bs.length === 0) return bs;
    const spans = spansOf({ length: bs.length, at: (i) => bs[i]! }, false, bs.includes(0x25), t, b, ring);
    if (spans.length === 0) return bs;
    const parts: Uint8Array[] = [];
    let at = 0;
    for (const [from, to] of spans) {
      parts.push(bs.subarray(at, from), REDACTED_BYTES);
      at = to;
    }
    parts.push(bs.subarray(at));
    return Buffer.concat(parts);
  }

  function deep<T>(value: T): T {
    if (empty) return value;
    if (typeof value === 'string') return text(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => deep(v)) as T;
    if (value && typeof value === 'object') {
      // defineProperty, not assignment: assigning a `__proto__` key would set the prototype and drop the key.
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) Object.defineProperty(out, text(k), { value: deep(v), enumerable: true, writable: true, configurable: true });
      return out as T;
    }
    return value;
  }

  return Object.freeze({ secrets: sorted, text, bytes, deep });
}
