import type { Finding } from './audit-finding.js';
import { hash } from 'node:crypto';
import { RightEdge } from './merkle.js';
import type { CompactRange, RangeNode } from './merkle-range.js';

const SEQ_KEY = Buffer.from(',"seq":');

/** The digits after `at` (the `,"seq":` found), or -1. */
function digitsAt(b: Buffer, at: number, end: number): number {
  let n = 0;
  let i = at + SEQ_KEY.length;
  const start = i;
  // b[end] is the next entry's 0x00 or past the buffer (undefined): either stops the loop, so
  // `i < end` is a second guard (its mutants are equivalent).
  for (; i < end && b[i]! >= 48 && b[i]! <= 57; i++) n = n * 10 + (b[i]! - 48);
  return i === start || i - start > 16 ? -1 : n;
}

/**
 * The sequence number written inside an entry's canonical bytes. The top-level `seq`
 * is the last `,"seq":` of the text: keys are sorted (actionId, actor, data, seq, ts,
 * type, v), only fixed-format strings follow it, and a quote inside a string is
 * escaped, so nothing nested can look like it. -1 when absent.
 */
export function embeddedSeq(bytes: Uint8Array): number {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const at = b.lastIndexOf(SEQ_KEY);
  return at < 0 ? -1 : digitsAt(b, at, b.length);
}

/**
 * Entries back to back, each preceded by a 0x00 byte (the leaf hash prefix, which
 * canonical JSON never contains): what the verifier reads in one go from the store
 * or a bundle, and hashes without copying.
 */
export interface EntryChunk {
  /** Sequence number of the first entry; the others follow (unless `seqs` says otherwise). */
  first: number;
  blob: Buffer;
  /** The rows' own sequence numbers, when they are not first, first+1, ... */
  seqs?: number[];
  /** The stored leaf hashes, 32 bytes each, in the same order (from a store). */
  stored?: Buffer;
}

/** Calls fn(from, to) for each entry of a chunk: blob[from] is its 0x00 prefix. */
export function forEachEntry(blob: Buffer, fn: (from: number, to: number, k: number) => void): number {
  let k = 0;
  for (let i = 0; i < blob.length; k++) {
    let j = blob.indexOf(0, i + 1);
    // j is never 0 (searched from i + 1): `j <= 0` is an equivalent mutant.
    if (j < 0) j = blob.length;
    fn(i, j, k);
    i = j;
  }
  return k;
}

/**
 * Streams entries in sequence order and checks what the log itself must hold: each
 * leaf hash recomputed from the stored bytes (and equal to the stored one), sequence
 * numbers contiguous and equal to the ones written inside the bytes; and computes the
 * tree's roots at the sizes asked for (checkpoints', witnesses'), from the recomputed
 * leaves.
 */
export class IntegrityChecker {
  readonly findings: Finding[] = [];
  problems = 0;
  readonly roots = new Map<number, Uint8Array>();
  /** For a range read apart (`range`): its subtrees at each size asked for, to join to the tree's edge where it begins. */
  readonly ranges = new Map<number, RangeNode[]>();
  /** Hashes (latin1) of the perfect subtrees from level `keepNodesFrom`, by in-order position. */
  readonly nodes = new Map<number, string>();
  private readonly edge: RightEdge | CompactRange;
  private expected: number;
  private readonly want: Set<number>;
  private readonly limit: number;
  private readonly onNode: ((level: number, index: number, hash: string) => void) | undefined;

  /** `range`: the entries from its beginning, when the tree before it is not known here (its roots then come out as `ranges`). */
  constructor(opts: { start?: number; edge?: RightEdge; range?: CompactRange; rootsAt?: Iterable<number>; keepNodesFrom?: number; limit?: number } = {}) {
    this.edge = opts.range ?? opts.edge ?? new RightEdge();
    this.expected = opts.start ?? this.edge.size;
    if (this.expected !== this.edge.size) throw new RangeError('the edge must end where the entries start');
    // A placeholder in place of `[]` is a string, never a size: an equivalent mutant.
    this.want = new Set(opts.rootsAt ?? []);
    if (this.want.has(this.edge.size)) this.keepRoot();
    this.limit = opts.limit ?? 1000;
    const from = opts.keepNodesFrom;
    // Without a level the callback is only skipped: one kept anyway would keep nothing
    // (`level >= undefined` is false), an equivalent mutant.
    this.onNode =
      from === undefined
        ? undefined
        : (level, index, hash) => {
            if (level >= from) this.nodes.set(index * 2 ** (level + 1) + 2 ** level - 1, hash);
          };
  }

  private bad(f: Omit<Finding, 'kind'>): void {
    this.problems++;
    if (this.findings.length < this.limit) this.findings.push({ kind: 'tampering', ...f });
  }

  /** Entries seen so far. */
  get size(): number {
    return this.edge.size;
  }

  /** The tree's state after the entries seen (not for a range read apart). */
  rightEdge(): RightEdge {
    if (!(this.edge instanceof RightEdge)) throw new Error('a range read apart has no edge of its own');
    return this.edge.clone();
  }

  /** A range read apart: its subtrees so far. */
  rangeNodes(): RangeNode[] {
    if (this.edge instanceof RightEdge) throw new Error('not a range read apart');
    return this.edge.nodes();
  }

  private keepRoot(): void {
    const e = this.edge;
    if (e instanceof RightEdge) this.roots.set(e.size, e.root());
    else this.ranges.set(e.size, e.nodes());
  }

  /** One entry (its bytes without the 0x00 prefix). */
  add(seq: number, bytes: Uint8Array, stored?: Uint8Array): void {
    const blob = Buffer.concat([Buffer.from([0]), bytes]);
    this.addChunk({ first: seq, blob, ...(stored ? { stored: Buffer.from(stored) } : {}) });
  }

  addChunk(c: EntryChunk): void {
    const { blob } = c;
    const stored = c.stored?.toString('latin1');
    const edge = this.edge;
    const onNode = this.onNode;
    // A plain loop: this runs once per entry of the whole log.
    for (let i = 0, k = 0; i < blob.length; k++) {
      let j = blob.indexOf(0, i + 1);
      // j is never 0 (searched from i + 1): `j <= 0` is an equivalent mutant.
      if (j < 0) j = blob.length;
      const seq = c.seqs ? c.seqs[k]! : c.first + k;
      if (seq !== this.expected) this.gap(seq);
      const leaf = hash('sha256', blob.subarray(i, j), 'binary');
      if (stored !== undefined && !stored.startsWith(leaf, k * 32)) this.changed(seq, stored.slice(k * 32, k * 32 + 32), leaf);
      const at = blob.lastIndexOf(SEQ_KEY, j - 1);
      // blob[i] is the entry's 0x00 prefix, so the key never starts at i: `at >= i` is equivalent.
      const inside = at > i ? digitsAt(blob, at, j) : -1;
      if (inside !== seq) this.moved(seq, inside);
      edge.appendLatin1(leaf, onNode);
      this.expected++;
      if (this.want.has(edge.size)) this.keepRoot();
      i = j;
    }
  }

  private changed(seq: number, stored: string, leaf: string): void {
    this.bad({
      check: 'leaf-hash',
      seq,
      message: `entry ${seq} was changed: its bytes do not hash to its stored leaf hash`,
      expected: Buffer.from(stored, 'latin1').toString('base64'),
      found: Buffer.from(leaf, 'latin1').toString('base64'),
    });
  }

  private moved(seq: number, inside: number): void {
    this.bad({
      check: 'sequence-number',
      seq,
      // moved() is called only when inside !== seq: `inside <= seq` is an equivalent mutant.
      message:
        inside < 0
          ? `entry ${seq} holds no sequence number: it is not an entry as written`
          : inside < seq
            ? `position ${seq} holds the entry written as number ${inside}: an entry was inserted before it, or entries were moved`
            : `position ${seq} holds the entry written as number ${inside}: an entry was removed before it, or entries were moved`,
      expected: String(seq),
      found: inside < 0 ? 'none' : String(inside),
    });
  }

  private gap(seq: number): void {
    // gap() is called only when seq !== this.expected: `>=` is an equivalent mutant.
    if (seq > this.expected) {
      const n = seq - this.expected;
      this.bad({ check: 'missing-entries', seq: this.expected, message: n === 1 ? `entry ${this.expected} is missing` : `entries ${this.expected} to ${seq - 1} are missing`, expected: String(this.expected), found: String(seq) });
    } else {
      this.bad({ check: 'out-of-order', seq, message: `entry ${seq} appears again after entry ${this.expected - 1}`, expected: String(this.expected), found: String(seq) });
    }
    this.expected = seq;
  }
}
