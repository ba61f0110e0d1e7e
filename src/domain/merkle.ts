import { hash } from 'node:crypto';

/**
 * RFC 9162 section 2.1: the Merkle Tree Hash over the audit entries in sequence
 * order, inclusion and consistency proofs, and their verification. SHA-256, leaf
 * prefix 0x00 (audit-entry.ts), node prefix 0x01, split at the largest power of two
 * smaller than n.
 */

export const HASH_SIZE = 32;

// The mutants of these two module-level values survive Stryker's run (the module is loaded once,
// with no mutant active) but are killed by hand: EMPTY_ROOT's hex is tested, and a negative size
// fails every import.
/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Uint8Array = hash('sha256', Buffer.alloc(0), 'buffer');

const node = Buffer.alloc(1 + 2 * HASH_SIZE);
node[0] = 1;

/** SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  node.set(left, 1);
  node.set(right, 1 + HASH_SIZE);
  return Buffer.from(hash('sha256', node, 'binary'), 'latin1');
}

/**
 * The same over hashes held as 32-character latin1 strings: the hot paths (the
 * appender, the verifier) keep hashes this way, because a string digest costs a
 * third of a Buffer one in Node's crypto.
 */
export function hashChildrenLatin1(left: string, right: string): string {
  // One write of both halves: a call fewer per node costs less than joining them (measured).
  node.write(left + right, 1, 'latin1');
  return hash('sha256', node, 'binary');
}

export const toLatin1 = (h: Uint8Array): string => (Buffer.isBuffer(h) ? h : Buffer.from(h.buffer, h.byteOffset, h.length)).toString('latin1');
export const fromLatin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The largest power of two strictly smaller than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// Every caller passes a positive integer (a range's width, a checked size1 >= 1): the first two
// guards only matter for 0 and fractions, so their mutants are equivalent.
function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isSafeInteger(n) && 2 ** Math.floor(Math.log2(n)) === n;
}

/** log2 of a power of two. */
function levelOf(width: number): number {
  return Math.round(Math.log2(width));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  // `i <= a.length` compares undefined with undefined past the end: an equivalent mutant.
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** MTH of a list of leaf hashes, straight from the definition (tests and small trees). */
export function rootOfLeaves(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  const k = splitPoint(leaves.length);
  return hashChildren(rootOfLeaves(leaves.slice(0, k)), rootOfLeaves(leaves.slice(k)));
}

/**
 * A perfect subtree: the 2^level leaves from index * 2^level. Every subtree an RFC 9162
 * proof needs is built from these, and the store keeps them (sqlite-tree.ts).
 */
export interface TreeNodes {
  /** Hash of the perfect subtree at (level, index); level 0 is a leaf hash. */
  node(level: number, index: number): Uint8Array;
}

/**
 * The perfect subtrees whose concatenation is [0, size): one per set bit of size,
 * largest first. Their hashes are the tree's right edge (compact range).
 */
export function edgeNodes(size: number): Array<{ level: number; index: number }> {
  const out: Array<{ level: number; index: number }> = [];
  let offset = 0;
  for (let level = Math.floor(Math.log2(Math.max(1, size))) + 1; level >= 0; level--) {
    const width = 2 ** level;
    if (Math.floor(size / width) % 2 === 1) {
      out.push({ level, index: offset / width });
      offset += width;
    }
  }
  return out;
}

/** The root from the right edge's hashes (largest subtree first). */
export function rootOfEdge(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT;
  let r = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) r = hashChildren(hashes[i]!, r);
  return r;
}

/**
 * The state an appender keeps: the right edge of the tree (one hash per set bit of
 * the size). Appending is O(log n) (amortized one node hash per leaf); every perfect
 * subtree completed on the way is reported, so that a store can keep it.
 */
export class RightEdge {
  /** Hash of the perfect subtree at each level whose bit is set in size (sparse), as latin1 strings. */
  private readonly levels: string[] = [];
  private n: number;

  /** Resumes a tree of `size` leaves from the hashes of edgeNodes(size), in that order. */
  constructor(size = 0, hashes: ReadonlyArray<Uint8Array | string> = []) {
    const nodes = edgeNodes(size);
    if (nodes.length !== hashes.length) throw new RangeError(`a tree of ${size} leaves has ${nodes.length} edge hashes, not ${hashes.length}`);
    nodes.forEach((x, i) => {
      const h = hashes[i]!;
      this.levels[x.level] = typeof h === 'string' ? h : toLatin1(h);
    });
    this.n = size;
  }

  get size(): number {
    return this.n;
  }

  /** Appends a leaf hash; `completed` sees each perfect subtree (level >= 1) it completes. */
  append(leaf: Uint8Array, completed?: (level: number, index: number, hash: string) => void): void {
    this.appendLatin1(toLatin1(leaf), completed);
  }

  /** append() with the leaf hash as a latin1 string (the verifier's hot path). */
  appendLatin1(leaf: string, completed?: (level: number, index: number, hash: string) => void): void {
    this.appendNodeLatin1(0, leaf, completed);
  }

  /**
   * Appends a whole perfect subtree of 2^level leaves (its hash as latin1), as one
   * compact range joins another (RFC 9162 trees split at aligned subtrees): the size
   * must be a multiple of 2^level. `completed` sees each subtree completed above it.
   */
  appendNodeLatin1(level: number, hash: string, completed?: (level: number, index: number, hash: string) => void): void {
    const width = 2 ** level;
    if (this.n % width !== 0) throw new RangeError(`a subtree of ${width} leaves cannot follow ${this.n} leaves`);
    let h = hash;
    let l = level;
    let s = this.n / width;
    while (s % 2 === 1) {
      h = hashChildrenLatin1(this.levels[l]!, h);
      this.levels[l] = '';
      l++;
      s = (s - 1) / 2;
      completed?.(l, s, h);
    }
    this.levels[l] = h;
    this.n += width;
  }

  /** The edge's hashes, largest subtree first (the order of edgeNodes). */
  hashes(): Buffer[] {
    const out: Buffer[] = [];
    // Starting above the top level reads empty slots, which are skipped: `length + 1` is equivalent.
    for (let l = this.levels.length - 1; l >= 0; l--) if (this.levels[l]) out.push(fromLatin1(this.levels[l]!));
    return out;
  }

  root(): Buffer {
    return Buffer.from(rootOfEdge(this.hashes()));
  }

  clone(): RightEdge {
    return new RightEdge(this.n, this.hashes());
  }
}

/** MTH(D[start:end]) for a range that an RFC 9162 recursion produces (start aligned to the split). */
function rangeHash(t: TreeNodes, start: number, end: number): Uint8Array {
  const width = end - start;
  // Such a range starts at a multiple of a power of two at least its width, so a power-of-two width
  // is always aligned: `start % width === 0` is a second guard (its mutant is equivalent).
  if (isPowerOfTwo(width) && start % width === 0) {
    const level = levelOf(width);
    return t.node(level, start / width);
  }
  const k = splitPoint(width);
  return hashChildren(rangeHash(t, start, start + k), rangeHash(t, start + k, end));
}

/** The root of the first `size` leaves. */
export function rootAt(t: TreeNodes, size: number): Uint8Array {
  return size === 0 ? EMPTY_ROOT : rangeHash(t, 0, size);
}

function checkSize(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer`);
}

/** The perfect subtrees MTH(D[start:end]) is made of, left to right. */
function rangeNodes(start: number, end: number, out: Array<{ level: number; index: number }>): void {
  const width = end - start;
  // Aligned whenever the width is a power of two, as in rangeHash (an equivalent mutant).
  if (isPowerOfTwo(width) && start % width === 0) {
    out.push({ level: levelOf(width), index: start / width });
    return;
  }
  const k = splitPoint(width);
  rangeNodes(start, start + k, out);
  rangeNodes(start + k, end, out);
}

/**
 * The perfect subtrees a proof or a root reads, without reading them: a store fetches
 * them in one go before the proof is computed.
 */
export function nodesNeeded(what: { root: number } | { inclusion: [index: number, size: number] } | { consistency: [from: number, to: number] }): Array<{ level: number; index: number }> {
  const out: Array<{ level: number; index: number }> = [];
  if ('root' in what) {
    if (what.root > 0) rangeNodes(0, what.root, out);
    return out;
  }
  if ('inclusion' in what) {
    const [index, size] = what.inclusion;
    const path = (m: number, start: number, end: number): void => {
      const n = end - start;
      if (n <= 1) return;
      const k = splitPoint(n);
      if (m < k) {
        path(m, start, start + k);
        rangeNodes(start + k, end, out);
      } else {
        path(m - k, start + k, end);
        rangeNodes(start, start + k, out);
      }
    };
    if (index < size) path(index, 0, size);
    out.push({ level: 0, index });
    return out;
  }
  const [from, to] = what.consistency;
  const sub = (m: number, start: number, end: number, b: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!b) rangeNodes(start, end, out);
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, start + k, b);
      rangeNodes(start + k, end, out);
    } else {
      sub(m - k, start + k, end, false);
      rangeNodes(start, start + k, out);
    }
  };
  // From `from == to`, sub() adds nothing (the whole range is the old tree): `<=` is equivalent.
  if (from >= 1 && from < to) sub(from, 0, to, true);
  return out;
}

/** RFC 9162 2.1.3.1: PATH(index, D[0:size]), from the leaf's sibling up. */
export function inclusionProof(t: TreeNodes, index: number, size: number): Uint8Array[] {
  checkSize('index', index);
  checkSize('size', size);
  if (index >= size) throw new RangeError(`index ${index} is not below size ${size}`);
  const out: Uint8Array[] = [];
  const path = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      path(m, start, start + k);
      out.push(rangeHash(t, start + k, end));
    } else {
      path(m - k, start + k, end);
      out.push(rangeHash(t, start, start + k));
    }
  };
  path(index, 0, size);
  return out;
}

/** RFC 9162 2.1.4.1: PROOF(from, D[0:to]). Empty when from == to; from must be >= 1. */
export function consistencyProof(t: TreeNodes, from: number, to: number): Uint8Array[] {
  checkSize('from', from);
  checkSize('to', to);
  if (from < 1 || from > to) throw new RangeError(`no consistency proof from ${from} to ${to}`);
  const out: Uint8Array[] = [];
  const sub = (m: number, start: number, end: number, b: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!b) out.push(rangeHash(t, start, end));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, start + k, b);
      out.push(rangeHash(t, start + k, end));
    } else {
      sub(m - k, start + k, end, false);
      out.push(rangeHash(t, start, start + k));
    }
  };
  // From `from == to`, sub() adds nothing: `<=` and always are equivalent mutants.
  if (from < to) sub(from, 0, to, true);
  return out;
}

function wellFormed(proof: readonly Uint8Array[]): boolean {
  return proof.every((p) => p instanceof Uint8Array && p.length === HASH_SIZE);
}

/** "Right-shift fn and sn equally until either LSB(fn) is set or fn is 0" (RFC 9162 2.1.3.2 and 2.1.4.2). */
// Callers pass fn odd, or fn == sn with sn != 0: a non-zero fn halves to an odd number, never to
// 0, so `fn !== 0` is never what stops the loop (an equivalent mutant).
function shiftToOdd(fn: number, sn: number): [number, number] {
  while (fn % 2 === 0 && fn !== 0) {
    fn /= 2;
    sn = Math.floor(sn / 2);
  }
  return [fn, sn];
}

/**
 * RFC 9162 2.1.3.2. The root an inclusion proof leads to, or undefined when the proof
 * cannot be one for (index, size) at all.
 */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return undefined;
  if (leaf.length !== HASH_SIZE || !wellFormed(proof)) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      [fn, sn] = shiftToOdd(fn, sn);
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const r = rootFromInclusionProof(index, size, leaf, proof);
  return r !== undefined && equalBytes(r, root);
}

/** RFC 9162 2.1.4.2. A proof from size 0 is refused; equal sizes need an empty proof and equal roots. */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 1 || size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
  if (!wellFormed(proof)) return false;
  // A second guard: with no proof sn cannot reach 0 (size2 > size1), so the end test fails anyway.
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      [fn, sn] = shiftToOdd(fn, sn);
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
}

/** TreeNodes over leaf hashes held in memory (tests, bundles, small trees). */
export function nodesOfLeaves(leaves: readonly Uint8Array[]): TreeNodes {
  const cache = new Map<string, Uint8Array>();
  const get = (level: number, index: number): Uint8Array => {
    if (level === 0) {
      const leaf = leaves[index];
      if (!leaf) throw new RangeError(`no leaf ${index}`);
      return leaf;
    }
    const key = `${level}:${index}`;
    let h = cache.get(key);
    if (!h) {
      h = hashChildren(get(level - 1, 2 * index), get(level - 1, 2 * index + 1));
      cache.set(key, h);
    }
    return h;
  };
  return { node: get };
}
