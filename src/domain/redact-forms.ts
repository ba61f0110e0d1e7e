import type { TaggedPattern } from './redact-automaton.js';

/**
 * The forms a secret may come back in, as byte patterns for one redaction automaton.
 * A "run" is `window` consecutive bytes of the secret's UTF-8 (the whole secret when it
 * is shorter): any run of `window` characters holds one, so finding every byte run finds
 * every character run. For each run:
 *
 * - as written; the fold below makes it match in any ASCII case;
 * - its hex (either case, by the same fold);
 * - in UTF-16LE and UTF-16BE (runs of `window` UTF-16 code units);
 * - in base64 and base64url: for each of the 3 alignments the run may have inside a
 *   larger blob, the characters that the run's bits alone determine (its "core").
 *
 * URL-encoded forms need no patterns: the text is also fed percent-decoded
 * (redact-secrets.ts), and `+` for space is part of the fold.
 *
 * One fold for all forms keeps it to one table lookup per byte: ASCII case, space with
 * `+`, and base64url's `-` and `_` with `+` and `/`. Base64 is thus matched without
 * regard to case: a 10-character core still carries about 50 bits, so random base64
 * matches it about once in 10^15 windows; runs as written merely also match with `-`,
 * `_` or a space in place of `+`, `/` or a `-`.
 */

/** The default and smallest run length: shorter runs of a secret (six letters of a word) are ordinary text. */
export const MIN_REDACT_WINDOW = 8;
export const MAX_REDACT_WINDOW = 64;

/** Secrets shorter than this are ignored: replacing them would shred ordinary text (config refuses credentials under 8). */
const MIN_SECRET = 4;
/** A base64 core shorter than this (under 48 bits) would match random base64 too often. */
const MIN_BASE64_CORE = 8;

export function foldByte(b: number): number {
  if (b >= 0x41 && b <= 0x5a) return b | 0x20;
  if (b === 0x20 || b === 0x2d) return 0x2b; // space and - → +
  return b === 0x5f ? 0x2f : b; // _ → /
}

/** Pattern tags: a base64 match is widened over the characters only partly the secret's. */
export const TAG_PLAIN = 0;
export const TAG_BASE64 = 1;

const ascii = (s: string) => Buffer.from(s, 'latin1');

function runs<T extends { length: number }>(whole: T, window: number, slice: (from: number, to: number) => T): T[] {
  if (whole.length <= window) return [whole];
  const out: T[] = [];
  for (let i = 0; i + window <= whole.length; i++) out.push(slice(i, i + window));
  return out;
}

/** The base64 characters fixed by `run` alone when `align` bytes (0-2) of its 3-byte group precede it. */
export function base64Core(run: Uint8Array, align: number): string {
  const enc = Buffer.concat([Buffer.alloc(align), run]).toString('base64');
  return enc.slice(Math.ceil((8 * align) / 6), Math.floor((8 * (align + run.length)) / 6));
}

function utf16(units: string, littleEndian: boolean): Uint8Array {
  const out = Buffer.alloc(units.length * 2);
  for (let i = 0; i < units.length; i++) {
    const u = units.charCodeAt(i);
    if (littleEndian) out.writeUInt16LE(u, i * 2);
    else out.writeUInt16BE(u, i * 2);
  }
  return out;
}

/** A secret and the run length it is matched by (its own length: matched only whole). */
export interface SecretSpec {
  value: string;
  window: number;
}

/** Every pattern of every secret, deduplicated. */
export function secretPatterns(secrets: readonly SecretSpec[]): TaggedPattern[] {
  const out = new Map<string, TaggedPattern>();
  const add = (tag: number, bytes: Uint8Array) => {
    const key = Buffer.from(bytes).toString('latin1');
    // A pattern that is both plain and base64 keeps the base64 tag (wider span).
    if (out.get(key)?.tag !== TAG_BASE64) out.set(key, { bytes, tag });
  };
  for (const { value: secret, window } of secrets) {
    if (secret.length < MIN_SECRET) continue;
    const bytes = Buffer.from(secret, 'utf8');
    for (const run of runs(bytes, window, (a, b) => bytes.subarray(a, b))) {
      add(TAG_PLAIN, run);
      add(TAG_PLAIN, ascii(run.toString('hex')));
      for (let align = 0; align < 3; align++) {
        const core = base64Core(run, align);
        if (core.length >= MIN_BASE64_CORE) add(TAG_BASE64, ascii(core));
      }
    }
    for (const run of runs(secret, window, (a, b) => secret.slice(a, b))) {
      add(TAG_PLAIN, utf16(run, true));
      add(TAG_PLAIN, utf16(run, false));
    }
  }
  return [...out.values()];
}
