import type { TreeNodes } from '../../../domain/merkle.js';
import { edgeNodes, fromLatin1, hashChildrenLatin1, RightEdge, toLatin1 } from '../../../domain/merkle.js';
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
const CACHED_FROM = 10;
const MAX_CACHED = 100_000;

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
  // One blob for the range: a row (and a Buffer) per leaf costs twice as much.
  const q = db.prepare("SELECT count(*), CAST(group_concat(l, '') AS BLOB) FROM (SELECT leaf_hash AS l FROM audit_entries WHERE seq >= ? AND seq < ? ORDER BY seq)").raw();
  return (start: number, end: number): Uint8Array[] => {
    if (end <= start) return [];
    const [count, blob] = q.get(start, end) as [number, Buffer | null];
    if (count !== end - start || !blob || blob.length !== 32 * count) throw new Error(`audit entries ${start}..${end - 1} are missing from the tree's leaves`);
    return Array.from({ length: count }, (_, i) => blob.subarray(32 * i, 32 * i + 32));
  };
}

/** Hash of a perfect subtree of up to 16 leaves, from them (latin1 hashing: the fast path). */
function fromLeavesFast(leaves: readonly Uint8Array[]): Uint8Array {
  let level = leaves.map(toLatin1);
  while (level.length > 1) {
    const up: string[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(hashChildrenLatin1(level[i]!, level[i + 1]!));
    level = up;
  }
  return fromLatin1(level[0]!);
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
      hashes.push(fromLeavesFast(low.slice(first - lowStart, first - lowStart + 2 ** p.level)));
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
 * TreeNodes on a connection, for proofs and roots. Given the nodes a proof needs
 * (nodesNeeded), it reads the stored ones with one query and the leaves of the small
 * ones with one range read per block of 16; anything else is read on demand. Make one
 * per request.
 */
export function createTreeReader(db: SqliteDb): (needs?: ReadonlyArray<{ level: number; index: number }>) => TreeNodes {
  const getNode = db.prepare('SELECT hash FROM audit_tree_nodes WHERE id = ?').pluck();
  // Nodes of 1,024 leaves or more never change and are few (one per 1,024 entries):
  // every proof reads some, so they are kept once read.
  const upper = new Map<number, Uint8Array>();
  const remember = (level: number, id: number, h: Uint8Array) => {
    if (level >= CACHED_FROM && upper.size < MAX_CACHED) upper.set(id, h);
  };
  const leaves = leafReader(db);
  const inQueries = new Map<number, ReturnType<SqliteDb['prepare']>>();
  const nodesIn = (ids: number[]): Array<[number, Uint8Array]> => {
    let q = inQueries.get(ids.length);
    if (!q) {
      q = db.prepare(`SELECT id, hash FROM audit_tree_nodes WHERE id IN (${ids.map(() => '?').join(',')})`).raw();
      inQueries.set(ids.length, q);
    }
    return q.all(...ids) as Array<[number, Uint8Array]>;
  };

  return (needs = []) => {
    const stored = new Map<number, Uint8Array>();
    const blocks = new Map<number, Uint8Array[]>();
    const wanted = new Map<number, number>();
    for (const x of needs) {
      if (x.level < STORED_FROM) continue;
      const id = nodeId(x.level, x.index);
      const cached = upper.get(id);
      if (cached) stored.set(id, cached);
      else wanted.set(id, x.level);
    }
    const ids = [...wanted.keys()];
    for (let i = 0; i < ids.length; i += 64) {
      for (const [id, h] of nodesIn(ids.slice(i, i + 64))) {
        stored.set(id, h);
        remember(wanted.get(id)!, id, h);
      }
    }
    const spans = new Map<number, number>();
    for (const x of needs) {
      if (x.level >= STORED_FROM) continue;
      const first = x.index * 2 ** x.level;
      const block = Math.floor(first / BLOCK) * BLOCK;
      spans.set(block, Math.max(spans.get(block) ?? 0, first + 2 ** x.level));
    }
    for (const [start, end] of spans) blocks.set(start, leaves(start, end));

    const leavesOf = (first: number, count: number): Uint8Array[] => {
      const start = Math.floor(first / BLOCK) * BLOCK;
      let held = blocks.get(start);
      if (!held || held.length < first - start + count) {
        held = leaves(start, first + count);
        blocks.set(start, held);
      }
      return held.slice(first - start, first - start + count);
    };
    return {
      node(level, index) {
        if (level >= STORED_FROM) {
          const id = nodeId(level, index);
          let h = stored.get(id) ?? upper.get(id);
          if (!h) {
            h = getNode.get(id) as Uint8Array | undefined;
            if (!h) throw new Error(`the audit tree has no node (${level}, ${index})`);
            remember(level, id, h);
          }
          return h;
        }
        const got = leavesOf(index * 2 ** level, 2 ** level);
        return level === 0 ? got[0]! : fromLeavesFast(got);
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
