// The edges of the Merkle tree code (found by the mutation campaign): hashes computed
// independently from the RFC 9162 definition, the small helpers, the right edge's
// bookkeeping, and every way a proof or a request for one can be malformed.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  edgeNodes,
  equalBytes,
  fromLatin1,
  hashChildren,
  hashChildrenLatin1,
  inclusionProof,
  nodesNeeded,
  nodesOfLeaves,
  RightEdge,
  rootAt,
  rootFromInclusionProof,
  rootOfEdge,
  rootOfLeaves,
  splitPoint,
  toLatin1,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

const sha = (...parts: Uint8Array[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafOf = (i: number) => sha(Buffer.from([0]), Buffer.from(`entry ${i}`));
const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafOf(i));
const node = (l: Uint8Array, r: Uint8Array) => sha(Buffer.from([1]), l, r);

describe('Merkle hashes from the definition', () => {
  it('the empty tree hashes to SHA-256 of nothing; a node to SHA-256(0x01 || left || right), as bytes or latin1 strings', () => {
    expect(Buffer.from(EMPTY_ROOT).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const [a, b] = [leafOf(1), leafOf(2)];
    expect(hashChildren(a, b)).toEqual(node(a, b));
    expect(hashChildren(b, a)).toEqual(node(b, a));
    expect(fromLatin1(hashChildrenLatin1(toLatin1(a), toLatin1(b)))).toEqual(node(a, b));
  });

  it('a tree of 3, 5 and 7 leaves splits at the largest power of two below its size', () => {
    const l = leaves(7);
    const n01 = node(l[0]!, l[1]!);
    const n23 = node(l[2]!, l[3]!);
    const n45 = node(l[4]!, l[5]!);
    expect(Buffer.from(rootOfLeaves(l.slice(0, 3)))).toEqual(node(n01, l[2]!));
    expect(Buffer.from(rootOfLeaves(l.slice(0, 5)))).toEqual(node(node(n01, n23), l[4]!));
    expect(Buffer.from(rootOfLeaves(l))).toEqual(node(node(n01, n23), node(n45, l[6]!)));
    expect(rootOfLeaves([l[0]!])).toBe(l[0]);
    expect(rootOfLeaves([])).toBe(EMPTY_ROOT);
  });

  it('the split point is the largest power of two strictly below n', () => {
    expect([2, 3, 4, 5, 6, 8, 9, 16, 17].map(splitPoint)).toEqual([1, 2, 2, 4, 4, 4, 8, 8, 16]);
  });

  it('latin1 strings carry any view of bytes, at any offset', () => {
    const backing = Buffer.from([9, 9, 1, 2, 255, 9]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 3);
    expect(toLatin1(view)).toBe('\x01\x02\xff');
    expect(toLatin1(Buffer.from([0, 128]))).toBe('\x00\x80');
    expect([...fromLatin1('\x01\xff')]).toEqual([1, 255]);
  });

  it('bytes are equal only with the same length and every byte the same', () => {
    expect(equalBytes(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3]))).toBe(true);
    expect(equalBytes(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 4]))).toBe(false);
    expect(equalBytes(Buffer.from([0, 2, 3]), Buffer.from([1, 2, 3]))).toBe(false);
    expect(equalBytes(Buffer.from([1, 2]), Buffer.from([1, 2, 3]))).toBe(false);
    expect(equalBytes(Buffer.from([]), Buffer.from([]))).toBe(true);
  });
});

describe('the right edge', () => {
  it('is one perfect subtree per set bit of the size, largest first', () => {
    const keys = (n: number) => edgeNodes(n).map((x) => `${x.level}:${x.index}`);
    expect(keys(0)).toEqual([]);
    expect(keys(1)).toEqual(['0:0']);
    expect(keys(2)).toEqual(['1:0']);
    expect(keys(6)).toEqual(['2:0', '1:2']);
    expect(keys(7)).toEqual(['2:0', '1:2', '0:6']);
    expect(keys(8)).toEqual(['3:0']);
    expect(keys(13)).toEqual(['3:0', '2:2', '0:12']);
  });

  it('its root folds the subtrees from the right', () => {
    const [a, b, c] = [leafOf(1), leafOf(2), leafOf(3)];
    expect(rootOfEdge([])).toBe(EMPTY_ROOT);
    expect(rootOfEdge([a])).toBe(a);
    expect(Buffer.from(rootOfEdge([a, b, c]))).toEqual(node(a, node(b, c)));
  });

  it('an appender reports each perfect subtree it completes, with its level, index and hash', () => {
    const l = leaves(4);
    const edge = new RightEdge();
    const seen: Array<[number, number, string]> = [];
    for (const x of l) edge.append(x, (level, index, h) => seen.push([level, index, Buffer.from(h, 'latin1').toString('hex')]));
    const n01 = node(l[0]!, l[1]!);
    const n23 = node(l[2]!, l[3]!);
    expect(seen).toEqual([
      [1, 0, n01.toString('hex')],
      [1, 1, n23.toString('hex')],
      [2, 0, node(n01, n23).toString('hex')],
    ]);
    expect(edge.size).toBe(4);
    expect(edge.hashes().map((h) => h.toString('hex'))).toEqual([node(n01, n23).toString('hex')]);
  });

  it('starts empty, with the empty root; resumes only from as many hashes as its size has set bits', () => {
    const empty = new RightEdge();
    expect(empty.size).toBe(0);
    expect(empty.hashes()).toEqual([]);
    expect(empty.root()).toEqual(Buffer.from(EMPTY_ROOT));
    expect(() => new RightEdge(3, [leafOf(0)])).toThrow('a tree of 3 leaves has 2 edge hashes, not 1');
    expect(() => new RightEdge(0, [leafOf(0)])).toThrow(RangeError);
    const l = leaves(3);
    const resumed = new RightEdge(3, [node(l[0]!, l[1]!), toLatin1(l[2]!)]);
    expect(resumed.root()).toEqual(Buffer.from(rootOfLeaves(l)));
  });

  it('a clone goes on alone: appending to it leaves the original as it was', () => {
    const edge = new RightEdge();
    for (const x of leaves(3)) edge.append(x);
    const before = edge.root();
    const copy = edge.clone();
    expect(copy.size).toBe(3);
    expect(copy.root()).toEqual(before);
    copy.append(leafOf(3));
    expect(edge.size).toBe(3);
    expect(edge.root()).toEqual(before);
    expect(copy.root()).toEqual(Buffer.from(rootOfLeaves(leaves(4))));
  });
});

describe('proof requests and proofs that cannot be', () => {
  it('the root of no leaves is the empty root; the nodes a root of no leaves needs are none', () => {
    const t = nodesOfLeaves(leaves(4));
    expect(rootAt(t, 0)).toBe(EMPTY_ROOT);
    expect(nodesNeeded({ root: 0 })).toEqual([]);
    expect(Buffer.from(rootAt(t, 3))).toEqual(Buffer.from(rootOfLeaves(leaves(3))));
  });

  it('an inclusion proof needs an index and size that are non-negative integers, the index below the size', () => {
    const t = nodesOfLeaves(leaves(4));
    expect(() => inclusionProof(t, -1, 4)).toThrow('index must be a non-negative integer');
    expect(() => inclusionProof(t, 0.5, 4)).toThrow('index must be a non-negative integer');
    expect(() => inclusionProof(t, 0, -1)).toThrow('size must be a non-negative integer');
    expect(() => inclusionProof(t, 0, Number.NaN)).toThrow('size must be a non-negative integer');
    expect(() => inclusionProof(t, 4, 4)).toThrow('index 4 is not below size 4');
    expect(inclusionProof(t, 0, 1)).toEqual([]);
    expect(inclusionProof(t, 3, 4).map((h) => Buffer.from(h))).toEqual([leafOf(2), node(leafOf(0), leafOf(1))]);
  });

  it('a consistency proof needs 1 <= from <= to; from == to is the empty proof', () => {
    const t = nodesOfLeaves(leaves(4));
    expect(() => consistencyProof(t, -1, 4)).toThrow('from must be a non-negative integer');
    expect(() => consistencyProof(t, 1, 2.5)).toThrow('to must be a non-negative integer');
    expect(() => consistencyProof(t, 0, 4)).toThrow('no consistency proof from 0 to 4');
    expect(() => consistencyProof(t, 3, 2)).toThrow('no consistency proof from 3 to 2');
    expect(consistencyProof(t, 4, 4)).toEqual([]);
    expect(consistencyProof(t, 2, 4).map((h) => Buffer.from(h))).toEqual([node(leafOf(2), leafOf(3))]);
  });

  it('the nodes an impossible request needs are at most the leaf asked about', () => {
    expect(nodesNeeded({ inclusion: [5, 4] })).toEqual([{ level: 0, index: 5 }]);
    expect(nodesNeeded({ inclusion: [4, 4] })).toEqual([{ level: 0, index: 4 }]);
    expect(nodesNeeded({ inclusion: [0, 1] })).toEqual([{ level: 0, index: 0 }]);
    expect(nodesNeeded({ consistency: [0, 4] })).toEqual([]);
    expect(nodesNeeded({ consistency: [4, 4] })).toEqual([]);
    expect(nodesNeeded({ consistency: [5, 4] })).toEqual([]);
    expect(nodesNeeded({ consistency: [2, 4] })).toEqual([{ level: 1, index: 1 }]);
  });

  it('an inclusion proof leads nowhere with an index or size out of range, a short leaf, or a malformed, short or long proof', () => {
    const l = leaves(5);
    const t = nodesOfLeaves(l);
    const root = rootOfLeaves(l);
    const p = inclusionProof(t, 2, 5);
    expect(Buffer.from(rootFromInclusionProof(2, 5, l[2]!, p)!)).toEqual(Buffer.from(root));
    expect(verifyInclusion(2, 5, l[2]!, p, root)).toBe(true);
    expect(verifyInclusion(2, 5, l[2]!, p, leafOf(99))).toBe(false);
    expect(rootFromInclusionProof(-1, 5, l[2]!, p)).toBeUndefined();
    expect(rootFromInclusionProof(5, 5, l[2]!, p)).toBeUndefined();
    expect(rootFromInclusionProof(2.5, 5, l[2]!, p)).toBeUndefined();
    expect(rootFromInclusionProof(2, 5.5, l[2]!, p)).toBeUndefined();
    expect(rootFromInclusionProof(2, 5, l[2]!.subarray(1), p)).toBeUndefined();
    expect(rootFromInclusionProof(2, 5, l[2]!, [p[0]!.subarray(1), ...p.slice(1)])).toBeUndefined();
    expect(rootFromInclusionProof(2, 5, l[2]!, [Array.from(p[0]!) as unknown as Uint8Array, ...p.slice(1)])).toBeUndefined();
    expect(rootFromInclusionProof(2, 5, l[2]!, p.slice(0, -1))).toBeUndefined();
    expect(rootFromInclusionProof(2, 5, l[2]!, [...p, leafOf(7)])).toBeUndefined();
    expect(rootFromInclusionProof(0, 1, l[0]!, [])).toBe(l[0]);
    expect(rootFromInclusionProof(0, 1, l[0]!, [leafOf(7)])).toBeUndefined();
    // An index at the size is refused before the proof is read: its bits would lead to a root.
    expect(rootFromInclusionProof(1, 1, l[0]!, [])).toBeUndefined();
    expect(verifyInclusion(1, 1, l[0]!, [], l[0]!)).toBe(false);
    expect(rootFromInclusionProof(4, 4, l[4]!, [l[0]!, l[1]!])).toBeUndefined();
  });

  it('the last leaf of an odd-sized tree is proved by its left siblings only', () => {
    const l = leaves(7);
    const t = nodesOfLeaves(l);
    const root = rootOfLeaves(l);
    for (const i of [4, 5, 6]) expect(verifyInclusion(i, 7, l[i]!, inclusionProof(t, i, 7), root), String(i)).toBe(true);
    // The proof of leaf 6 used for leaf 5 fails.
    expect(verifyInclusion(5, 7, l[5]!, inclusionProof(t, 6, 7), root)).toBe(false);
  });

  it('a consistency proof fails with sizes out of range, equal sizes unless roots match and the proof is empty, or a malformed, empty or long proof', () => {
    const l = leaves(6);
    const t = nodesOfLeaves(l);
    const r3 = rootOfLeaves(l.slice(0, 3));
    const r4 = rootOfLeaves(l.slice(0, 4));
    const r6 = rootOfLeaves(l);
    const p = consistencyProof(t, 3, 6);
    expect(verifyConsistency(3, 6, r3, r6, p)).toBe(true);
    expect(verifyConsistency(4, 6, r4, r6, consistencyProof(t, 4, 6))).toBe(true);
    expect(verifyConsistency(6, 3, r6, r3, p)).toBe(false);
    expect(verifyConsistency(3.5, 6, r3, r6, p)).toBe(false);
    expect(verifyConsistency(3, 6.5, r3, r6, p)).toBe(false);
    expect(verifyConsistency(-3, 6, r3, r6, p)).toBe(false);
    expect(verifyConsistency(6, 6, r6, r6, [])).toBe(true);
    expect(verifyConsistency(6, 6, r6, r6, [leafOf(1)])).toBe(false);
    expect(verifyConsistency(6, 6, r6, r3, [])).toBe(false);
    expect(verifyConsistency(3, 6, r3, r6, [])).toBe(false);
    expect(verifyConsistency(3, 6, r3, r6, [p[0]!.subarray(1), ...p.slice(1)])).toBe(false);
    expect(verifyConsistency(3, 6, r3, r6, [...p, leafOf(9)])).toBe(false);
    expect(verifyConsistency(4, 6, r4, r6, [])).toBe(false);
    // From size 0, even to size 0 with equal roots.
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(false);
    // Proof hashes given as plain arrays of the right bytes are malformed too.
    expect(verifyConsistency(3, 6, r3, r6, [Array.from(p[0]!) as unknown as Uint8Array, ...p.slice(1)])).toBe(false);
  });

  it('a consistency proof is refused whatever roots it is checked against: sizes that shrink, too many hashes, too few', () => {
    // Each time the roots are exactly the ones the proof's hashes lead to; only the sizes' rules refuse it.
    const [a, b, c] = [leafOf(1), leafOf(2), leafOf(3)];
    expect(verifyConsistency(3, 2, a, node(a, b), [a, b])).toBe(false);
    expect(verifyConsistency(3, 4, a, node(a, b), [a, b])).toBe(false);
    const l = leaves(4);
    const t = nodesOfLeaves(l);
    const [r3, r4] = [rootOfLeaves(l.slice(0, 3)), rootOfLeaves(l)];
    const p = consistencyProof(t, 3, 4);
    expect(verifyConsistency(3, 4, r3, r4, p)).toBe(true);
    expect(verifyConsistency(3, 4, node(c, r3), node(c, r4), [...p, c])).toBe(false);
  });

  it('nodes over leaves in memory: a missing leaf is named, and each inner node is computed once', () => {
    const t = nodesOfLeaves(leaves(4));
    expect(() => t.node(0, 4)).toThrow('no leaf 4');
    expect(() => t.node(1, 2)).toThrow('no leaf 4');
    expect(t.node(1, 0)).toBe(t.node(1, 0));
    expect(Buffer.from(t.node(2, 0))).toEqual(Buffer.from(rootOfLeaves(leaves(4))));
  });
});
