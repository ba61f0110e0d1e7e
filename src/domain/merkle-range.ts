import type { RightEdge } from './merkle.js';
import { hashChildrenLatin1 } from './merkle.js';

/** A perfect subtree of a compact range: 2^level leaves from index * 2^level, its hash as latin1. */
export interface RangeNode {
  level: number;
  index: number;
  hash: string;
}

/**
 * A compact range (RFC 9162 trees, as in Certificate Transparency's compact ranges):
 * the leaves [begin, end) of a tree whose earlier leaves are unknown, held as the few
 * perfect subtrees they make up, left to right (sizes rising, then falling). Every
 * perfect subtree complete inside the range is the same as in the whole tree, so a
 * range read apart (the verifier's second half) joins the tree's edge at `begin` to
 * give its roots at any size in the range (joinRange).
 */
export class CompactRange {
  private readonly levels: number[] = [];
  private readonly hashes: string[] = [];
  private n: number;

  constructor(readonly begin: number) {
    if (!Number.isSafeInteger(begin) || begin < 0) throw new RangeError('a range begins at a non-negative integer');
    this.n = begin;
  }

  /** One past the last leaf. */
  get size(): number {
    return this.n;
  }

  /** Appends a leaf hash (latin1); `completed` sees each perfect subtree (level >= 1) completed, by its place in the whole tree. */
  appendLatin1(leaf: string, completed?: (level: number, index: number, hash: string) => void): void {
    let h = leaf;
    let level = 0;
    let index = this.n;
    // A right child joins its left sibling when the sibling is the range's last subtree
    // (it is then inside the range; one that starts before `begin` is never there).
    for (let last = this.levels.length - 1; index % 2 === 1 && last >= 0 && this.levels[last] === level; last--) {
      h = hashChildrenLatin1(this.hashes[last]!, h);
      this.levels.pop();
      this.hashes.pop();
      level++;
      index = (index - 1) / 2;
      completed?.(level, index, h);
    }
    this.levels.push(level);
    this.hashes.push(h);
    this.n++;
  }

  /** The range's subtrees, left to right. */
  nodes(): RangeNode[] {
    let at = this.begin;
    return this.levels.map((level, i) => {
      const node = { level, index: at / 2 ** level, hash: this.hashes[i]! };
      at += 2 ** level;
      return node;
    });
  }
}

/**
 * The tree's edge at the end of a range, from its edge where the range begins: each
 * subtree of the range appended in turn (RFC 9162: they are aligned, so each one
 * starts at a multiple of its width). `completed` sees the subtrees that span both.
 */
export function joinRange(edge: RightEdge, nodes: readonly RangeNode[], completed?: (level: number, index: number, hash: string) => void): RightEdge {
  const out = edge.clone();
  for (const x of nodes) {
    if (x.index * 2 ** x.level !== out.size) throw new RangeError(`the subtree at ${x.index * 2 ** x.level} does not follow ${out.size} leaves`);
    out.appendNodeLatin1(x.level, x.hash, completed);
  }
  return out;
}
