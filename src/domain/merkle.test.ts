import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leafHash } from './audit-entry.js';
import {
  consistencyProof,
  EMPTY_ROOT,
  edgeNodes,
  inclusionProof,
  nodesNeeded,
  nodesOfLeaves,
  RightEdge,
  rootAt,
  rootFromInclusionProof,
  rootOfLeaves,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

function leaves(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry ${i} ${randomBytes(4).toString('hex')}`)));
}

function flipBit(p: Uint8Array[], which: number, bit: number): Uint8Array[] {
  return p.map((h, i) => {
    if (i !== which) return h;
    const c = Buffer.from(h);
    c[bit >> 3]! ^= 1 << (bit & 7);
    return c;
  });
}

describe('the Merkle tree hash', () => {
  it('matches the definition: empty, one leaf, and the split at the largest power of two below n', () => {
    expect(Buffer.from(EMPTY_ROOT).toString('hex')).toBe(createHash('sha256').digest('hex'));
    const l = leaves(7);
    expect(rootOfLeaves(l.slice(0, 1))).toEqual(l[0]);
    const h = (a: Uint8Array, b: Uint8Array) => createHash('sha256').update(Buffer.from([1])).update(a).update(b).digest();
    // 7 leaves: k = 4, then [4..7) splits at 2.
    const expected = h(h(h(l[0]!, l[1]!), h(l[2]!, l[3]!)), h(h(l[4]!, l[5]!), l[6]!));
    expect(Buffer.from(rootOfLeaves(l)).equals(expected)).toBe(true);
  });

  it('the right edge gives the same root as the definition at every size, and reports every perfect subtree once', () => {
    const l = leaves(70);
    const edge = new RightEdge();
    const seen = new Set<string>();
    l.forEach((leaf, i) => {
      edge.append(leaf, (level, index, hash) => {
        const key = `${level}:${index}`;
        expect(seen.has(key)).toBe(false);
        seen.add(key);
        expect(Buffer.from(hash, 'latin1').equals(Buffer.from(nodesOfLeaves(l).node(level, index)))).toBe(true);
      });
      expect(edge.size).toBe(i + 1);
      expect(Buffer.from(edge.root()).equals(Buffer.from(rootOfLeaves(l.slice(0, i + 1))))).toBe(true);
    });
    // Perfect subtrees of 70 leaves: 35 + 17 + 8 + 4 + 2 + 1.
    expect(seen.size).toBe(35 + 17 + 8 + 4 + 2 + 1);
  });

  it('resumes from a persisted edge and goes on exactly as if never stopped', () => {
    const l = leaves(45);
    const a = new RightEdge();
    l.slice(0, 27).forEach((x) => a.append(x));
    expect(edgeNodes(27)).toEqual([
      { level: 4, index: 0 },
      { level: 3, index: 2 },
      { level: 1, index: 12 },
      { level: 0, index: 26 },
    ]);
    const b = new RightEdge(27, a.hashes());
    l.slice(27).forEach((x) => b.append(x));
    expect(Buffer.from(b.root()).equals(Buffer.from(rootOfLeaves(l)))).toBe(true);
    expect(() => new RightEdge(27, a.hashes().slice(1))).toThrow(RangeError);
  });
});

describe('proofs for random trees (property tests)', () => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 129];

  it('every inclusion proof verifies, leads to the root, and fails with any flipped bit or a wrong index', () => {
    for (const n of sizes) {
      const l = leaves(n);
      const t = nodesOfLeaves(l);
      const root = rootAt(t, n);
      expect(Buffer.from(root).equals(Buffer.from(rootOfLeaves(l)))).toBe(true);
      for (let i = 0; i < n; i++) {
        const p = inclusionProof(t, i, n);
        expect(verifyInclusion(i, n, l[i]!, p, root)).toBe(true);
        expect(Buffer.from(rootFromInclusionProof(i, n, l[i]!, p)!).equals(Buffer.from(root))).toBe(true);
        if (p.length) {
          const which = Math.floor(Math.random() * p.length);
          expect(verifyInclusion(i, n, l[i]!, flipBit(p, which, Math.floor(Math.random() * 256)), root)).toBe(false);
          expect(verifyInclusion(i, n, l[i]!, p.slice(1), root)).toBe(false);
          expect(verifyInclusion(i, n, l[i]!, [...p, p[0]!], root)).toBe(false);
        }
        expect(verifyInclusion(i, n, flipBit([l[i]!], 0, Math.floor(Math.random() * 256))[0]!, p, root)).toBe(false);
        if (n > 1) expect(verifyInclusion((i + 1) % n, n, l[i]!, p, root)).toBe(false);
      }
    }
  });

  it('every consistency proof verifies, and fails with any flipped bit, a wrong root or wrong sizes', () => {
    for (const n of sizes) {
      const l = leaves(n);
      const t = nodesOfLeaves(l);
      for (let m = 1; m <= n; m++) {
        const p = consistencyProof(t, m, n);
        const r1 = rootAt(t, m);
        const r2 = rootAt(t, n);
        expect(verifyConsistency(m, n, r1, r2, p)).toBe(true);
        if (m === n) {
          expect(p).toEqual([]);
          continue;
        }
        const which = Math.floor(Math.random() * p.length);
        expect(verifyConsistency(m, n, r1, r2, flipBit(p, which, Math.floor(Math.random() * 256)))).toBe(false);
        expect(verifyConsistency(m, n, flipBit([r1], 0, 7)[0]!, r2, p)).toBe(false);
        expect(verifyConsistency(m, n, r1, flipBit([r2], 0, 200)[0]!, p)).toBe(false);
        expect(verifyConsistency(m, n, r2, r1, p)).toBe(false);
        expect(verifyConsistency(m, n, r1, r2, p.slice(0, -1))).toBe(false);
      }
    }
  });

  it('knows ahead which perfect subtrees a proof or a root reads (so that a store fetches them at once)', () => {
    for (const n of sizes) {
      const l = leaves(n);
      const t = nodesOfLeaves(l);
      const reading = () => {
        const read = new Set<string>();
        return { read, nodes: { node: (level: number, index: number) => (read.add(`${level}:${index}`), t.node(level, index)) } };
      };
      const asKeys = (xs: Array<{ level: number; index: number }>) => new Set(xs.map((x) => `${x.level}:${x.index}`));
      const r = reading();
      rootAt(r.nodes, n);
      expect(asKeys(nodesNeeded({ root: n }))).toEqual(r.read);
      for (let i = 0; i < n; i++) {
        const x = reading();
        inclusionProof(x.nodes, i, n);
        // Exactly what it reads, and the leaf itself: a proof is served with its leaf hash.
        expect(asKeys(nodesNeeded({ inclusion: [i, n] }))).toEqual(new Set([...x.read, `0:${i}`]));
      }
      for (let m = 1; m <= n; m++) {
        const x = reading();
        consistencyProof(x.nodes, m, n);
        expect(asKeys(nodesNeeded({ consistency: [m, n] }))).toEqual(x.read);
      }
    }
  });

  it('refuses impossible requests', () => {
    const t = nodesOfLeaves(leaves(4));
    expect(() => inclusionProof(t, 4, 4)).toThrow(RangeError);
    expect(() => consistencyProof(t, 0, 4)).toThrow(RangeError);
    expect(() => consistencyProof(t, 3, 2)).toThrow(RangeError);
    expect(verifyConsistency(0, 4, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(false);
  });
});
