/**
 * The forms a secret may come back in, as byte patterns for the redaction automata.
 * A "run" is `window` consecutive bytes of the secret's UTF-8 (the whole secret when it
 * is shorter): any run of `window` characters holds one, so finding every byte run finds
 * every character run.
 *
 * - text automaton (bytes folded: ASCII case, and `+` with space): each run as written
 *   (so upper-, lower- or mixed-case), its hex (either case), and each run of `window`
 *   UTF-16 code units in UTF-16LE and UTF-16BE. URL-encoded forms need no patterns of
 *   their own: the text is also fed percent-decoded (redact-secrets.ts), and `+` for
 *   space is the fold.
 * - base64 automaton (case-sensitive; `-` and `_` folded onto `+` and `/`, so base64url
 *   too): for each run and each of the 3 alignments it may have inside a larger blob,
 *   the characters that the run's bits alone determine.
 */

/** The default and smallest run length: shorter runs of a secret (six letters of a word) are ordinary text. */
export const MIN_REDACT_WINDOW = 8;
export const MAX_REDACT_WINDOW = 64;

/** Secrets shorter than this are ignored: replacing them would shred ordinary text (config refuses credentials under 8). */
const MIN_SECRET = 4;
/** A base64 core shorter than this (under 48 bits) would match random base64 too often. */
const MIN_BASE64_CORE = 8;

export function foldText(b: number): number {
  if (b >= 0x41 && b <= 0x5a) return b | 0x20;
  return b === 0x20 ? 0x2b : b;
}

export function foldBase64(b: number): number {
  if (b === 0x2d) return 0x2b; // - → +
  return b === 0x5f ? 0x2f : b; // _ → /
}

export interface SecretPatterns {
  text: Uint8Array[];
  base64: Uint8Array[];
}

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
export function secretPatterns(secrets: readonly SecretSpec[]): SecretPatterns {
  const text = new Map<string, Uint8Array>();
  const base64 = new Map<string, Uint8Array>();
  const add = (m: Map<string, Uint8Array>, p: Uint8Array) => m.set(Buffer.from(p).toString('latin1'), p);
  for (const { value: secret, window } of secrets) {
    if (secret.length < MIN_SECRET) continue;
    const bytes = Buffer.from(secret, 'utf8');
    for (const run of runs(bytes, window, (a, b) => bytes.subarray(a, b))) {
      add(text, run);
      add(text, ascii(run.toString('hex')));
      for (let align = 0; align < 3; align++) {
        const core = base64Core(run, align);
        if (core.length >= MIN_BASE64_CORE) add(base64, ascii(core));
      }
    }
    for (const run of runs(secret, window, (a, b) => secret.slice(a, b))) {
      add(text, utf16(run, true));
      add(text, utf16(run, false));
    }
  }
  return { text: [...text.values()], base64: [...base64.values()] };
}
