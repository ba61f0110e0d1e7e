/**
 * An Aho-Corasick automaton over bytes: every pattern is found in one pass, linear in
 * the text, however many patterns there are. Built once per config.
 *
 * Hand-written (about 80 lines) rather than taken from npm: the packages there (e.g.
 * @monyone/aho-corasick) match JavaScript strings and return lists of matches, while
 * redaction feeds bytes from two views of one text at once (as written and
 * percent-decoded), folds bytes (case, `+`/space, base64url) and maps each match back
 * to a span of the original; with a string matcher that means building folded and
 * decoded copies of every response first.
 */
export interface ByteAutomaton {
  /** Byte → class; bytes that fold together share a class; 0: a byte in no pattern. */
  readonly classOf: Uint8Array;
  /** Number of classes: the row width of `next`. */
  readonly width: number;
  /**
   * The full transition table (failure links resolved), indexed by row offset
   * (state * width) + class. Entries are row offsets too, so a step is one load; an
   * entry is negated when a pattern ends in its state (the root never ends one).
   */
  readonly next: Int32Array;
  /** Length of the longest pattern ending in each state, 0 if none. */
  readonly longest: Int32Array;
  /** The tag of that pattern (see buildByteAutomaton). */
  readonly tag: Uint8Array;
  /** The longest pattern's length. */
  readonly maxLength: number;
  /** The shortest pattern's length (Infinity without patterns). */
  readonly minLength: number;
}

/** A pattern and a small tag the matcher reports with it (e.g. which form it is). */
export interface TaggedPattern {
  bytes: Uint8Array;
  tag: number;
}

/** Builds the automaton of `patterns`, each byte read through `fold` (in patterns and in texts alike). */
export function buildByteAutomaton(patterns: readonly TaggedPattern[], fold: (byte: number) => number): ByteAutomaton {
  // Classes: one per folded byte that occurs in a pattern, so rows stay narrow.
  const folded = new Int32Array(256).fill(-1);
  let width = 1;
  for (const { bytes } of patterns) for (const b of bytes) if (folded[fold(b)] === -1) folded[fold(b)] = width++;
  const classOf = new Uint8Array(256);
  for (let b = 0; b < 256; b++) classOf[b] = Math.max(0, folded[fold(b)]!);

  // The trie, in a growable dense table (-1: no edge yet).
  const next: number[] = new Array<number>(width).fill(-1);
  const longest: number[] = [0];
  const tags: number[] = [0];
  let maxLength = 0;
  let minLength = Infinity;
  for (const { bytes: p, tag } of patterns) {
    if (p.length === 0) continue;
    let s = 0;
    for (const b of p) {
      const at = s * width + classOf[b]!;
      if (next[at] === -1) {
        next[at] = longest.length;
        longest.push(0);
        tags.push(0);
        for (let c = 0; c < width; c++) next.push(-1);
      }
      s = next[at]!;
    }
    if (p.length > longest[s]!) {
      longest[s] = p.length;
      tags[s] = tag;
    }
    maxLength = Math.max(maxLength, p.length);
    minLength = Math.min(minLength, p.length);
  }

  // Breadth first: failure links, then every missing edge resolved through them.
  const states = longest.length;
  const fail = new Int32Array(states);
  const table = Int32Array.from(next);
  const queue: number[] = [];
  for (let c = 0; c < width; c++) {
    const t = table[c]!;
    if (t === -1) table[c] = 0;
    else queue.push(t); // fail[t] = 0
  }
  for (let q = 0; q < queue.length; q++) {
    const s = queue[q]!;
    // A pattern ending at the failure state ends here too; keep the longest.
    if (longest[fail[s]!]! > longest[s]!) {
      longest[s] = longest[fail[s]!]!;
      tags[s] = tags[fail[s]!]!;
    }
    for (let c = 0; c < width; c++) {
      const t = table[s * width + c]!;
      const viaFail = table[fail[s]! * width + c]!;
      if (t === -1) table[s * width + c] = viaFail;
      else {
        fail[t] = viaFail;
        queue.push(t);
      }
    }
  }
  for (let i = 0; i < table.length; i++) {
    const t = table[i]!;
    table[i] = longest[t]! > 0 ? -t * width : t * width;
  }
  return { classOf, width, next: table, longest: Int32Array.from(longest), tag: Uint8Array.from(tags), maxLength, minLength };
}
