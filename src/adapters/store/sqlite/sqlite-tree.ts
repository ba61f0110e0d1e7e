import type { TreeNodes } from '../../../domain/merkle.js';
import { edgeNodes, fromLatin1, hashChildren, RightEdge } from '../../../domain/merkle.js';
import type { SqliteDb } from './sqlite-db.js';

/**
 * The Merkle tree's storage. `audit_tree_nodes` keeps the hash of every perfect
 * subtree of 2^STORED_FROM leaves or more (about one row per 8 entries), keyed by its
 * in-order position; smaller subtrees are recomputed from at most 16 stored leaf
 * hashes. So:
 *
 * - the appender's state (the right edge) is persisted by the same INSERTs as the
 *   entries, in the same transaction: the edge of size n is the stored nodes of n's
 *   binary decomposition plus its last n mod 16 leaves, read back in O(log n);
 * - any inclusion or consistency proof needs O(log n) point reads and one read of
 *   at most 16 leaf hashes.
 */
export const STORED_FROM = 4;
const BLOCK = 2 ** STORED_FROM;

/** In-order position of the perfect subtree (level, index): unique across levels. */
export function nodeId(level: number, index: number): number {
  return index * 2 ** (level + 1) + 2 ** level - 1;
}

export interface TreeAppender {
  /** Inside the write transaction: appends the leaf hashes of entries first, first+1, ... */
  append(first: number, leaves: readonly Uint8Array[]): void;
  /** Forgets the cached edge (after a rollback): the next append reads it back. */
  invalidate(): void;
}

function leafReader(db: SqliteDb) {
  const leaves = db.prepare('SELECT leaf_hash FROM audit_entries WHERE seq >= ? AND seq < ? ORDER BY seq').pluck();
  return (start: number, end: number): Uint8Array[] => {
    const rows = leaves.all(start, end) as Uint8Array[];
    if (rows.length !== end - start) throw new Error(`audit entries ${start}..${end - 1} are missing from the tree's leaves`);
    return rows;
  };
}

/** Hash of the perfect subtree (level, index) from its leaves. */
function fromLeaves(leaves: readonly Uint8Array[], level: number, index: number, offset: number): Uint8Array {
  if (level === 0) return leaves[index - offset]!;
  return hashChildren(fromLeaves(leaves, level - 1, 2 * index, 2 * offset), fromLeaves(leaves, level - 1, 2 * index + 1, 2 * offset));
}

/** The right edge of the first `size` leaves, from the stored nodes and the last leaves. */
function readEdge(db: SqliteDb, size: number, node: (id: number) => Uint8Array | undefined, leaves: (s: number, e: number) => Uint8Array[]): RightEdge | undefined {
  const parts = edgeNodes(size);
  const lowStart = size - (size % BLOCK);
  const low = size % BLOCK ? leaves(lowStart, size) : [];
  const hashes: Uint8Array[] = [];
  for (const p of parts) {
    if (p.level >= STORED_FROM) {
      const h = node(nodeId(p.level, p.index));
      if (!h) return undefined;
      hashes.push(h);
    } else {
      const first = p.index * 2 ** p.level;
      hashes.push(fromLeaves(low.slice(first - lowStart, first - lowStart + 2 ** p.level), p.level, 0, 0));
    }
  }
  return new RightEdge(size, hashes);
}

export function createTreeAppender(db: SqliteDb): TreeAppender {
  const insertNode = db.prepare('INSERT INTO audit_tree_nodes (id, hash) VALUES (?, ?)');
  const getNode = db.prepare('SELECT hash FROM audit_tree_nodes WHERE id = ?').pluck();
  const leaves = leafReader(db);
  let edge: RightEdge | undefined;
  const store = (level: number, index: number, hash: string) => {
    if (level >= STORED_FROM) insertNode.run(nodeId(level, index), fromLatin1(hash));
  };
  return {
    append(first, hashes) {
      // Another process may have appended since: the cached edge is only good for the size it has.
      if (!edge || edge.size !== first) {
        edge = readEdge(db, first, (id) => getNode.get(id) as Uint8Array | undefined, leaves);
        if (!edge) throw new Error('the audit tree is behind its entries; reopen the store to rebuild it');
      }
      for (const h of hashes) edge.append(h, store);
    },
    invalidate() {
      edge = undefined;
    },
  };
}

/**
 * TreeNodes on a connection, for proofs and roots: stored nodes by point reads,
 * smaller subtrees from their (at most 16) leaves. Memoized per instance: make one
 * per request.
 */
export function createTreeReader(db: SqliteDb): () => TreeNodes {
  const getNode = db.prepare('SELECT hash FROM audit_tree_nodes WHERE id = ?').pluck();
  const leaves = leafReader(db);
  return () => {
    const blocks = new Map<number, Uint8Array[]>();
    return {
      node(level, index) {
        if (level >= STORED_FROM) {
          const h = getNode.get(nodeId(level, index)) as Uint8Array | undefined;
          if (!h) throw new Error(`the audit tree has no node (${level}, ${index})`);
          return h;
        }
        const first = index * 2 ** level;
        const block = Math.floor(first / BLOCK);
        let leafs = blocks.get(block);
        if (!leafs) {
          const start = block * BLOCK;
          leafs = leaves(start, first + 2 ** level);
          blocks.set(block, leafs);
        } else if (leafs.length < first - block * BLOCK + 2 ** level) {
          leafs = leaves(block * BLOCK, first + 2 ** level);
          blocks.set(block, leafs);
        }
        return fromLeaves(leafs.slice(first - block * BLOCK, first - block * BLOCK + 2 ** level), level, 0, 0);
      },
    };
  };
}

/**
 * Brings the stored nodes up to the entries (a database written before the tree
 * existed, or entries inserted behind the store's back): recomputes every node from
 * the stored leaf hashes and inserts the missing ones. O(n), in one transaction;
 * a no-op when the edge of the current size is all there.
 */
export function catchUpTree(db: SqliteDb): number {
  const size = (db.prepare('SELECT COALESCE(MAX(seq) + 1, 0) AS n FROM audit_entries').get() as { n: number }).n;
  const getNode = db.prepare('SELECT hash FROM audit_tree_nodes WHERE id = ?').pluck();
  if (readEdge(db, size, (id) => getNode.get(id) as Uint8Array | undefined, leafReader(db))) return 0;
  const insert = db.prepare('INSERT OR IGNORE INTO audit_tree_nodes (id, hash) VALUES (?, ?)');
  // better-sqlite3 runs one statement at a time per connection: read in chunks, not with an open iterator.
  const chunk = db.prepare('SELECT seq, leaf_hash FROM audit_entries WHERE seq >= ? ORDER BY seq LIMIT 10000').raw();
  const edge = new RightEdge();
  let added = 0;
  db.exec('BEGIN IMMEDIATE');
  try {
    for (;;) {
      const rows = chunk.all(edge.size) as Array<[number, Uint8Array]>;
      if (rows.length === 0) break;
      for (const [seq, leaf] of rows) {
        if (seq !== edge.size) throw new Error(`audit entry ${edge.size} is missing`);
        edge.append(leaf, (level, index, hash) => {
          if (level >= STORED_FROM) added += insert.run(nodeId(level, index), fromLatin1(hash)).changes;
        });
      }
    }
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
  return added;
}
