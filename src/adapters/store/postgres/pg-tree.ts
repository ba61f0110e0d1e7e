import type { TreeNodes } from '../../../domain/merkle.js';
import { edgeNodes, fromLatin1, hashChildrenLatin1, RightEdge, toLatin1 } from '../../../domain/merkle.js';
// The same node layout as the SQLite store (perfect subtrees of 16 leaves or more, by
// in-order position), so that `store copy` moves tree nodes verbatim.
import { nodeId, STORED_FROM } from '../sqlite/sqlite-tree.js';
import type { Sql } from './pg-connect.js';

const BLOCK = 2 ** STORED_FROM;
const CACHED_FROM = 10;
const MAX_CACHED = 100_000;
/** Most entries written elsewhere that a cached edge catches up on by reading their leaves. */
export const CATCH_UP_MAX = 4096;

/** Hash of a perfect subtree of up to 16 leaves. */
function fromLeaves(leaves: readonly Uint8Array[]): Uint8Array {
  let level = leaves.map(toLatin1);
  while (level.length > 1) {
    const up: string[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(hashChildrenLatin1(level[i]!, level[i + 1]!));
    level = up;
  }
  return fromLatin1(level[0]!);
}

async function nodesById(q: Sql, ids: number[]): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  if (ids.length === 0) return out;
  const r = await q.query<{ id: number; hash: Buffer }>('SELECT id, hash FROM audit_tree_nodes WHERE id = ANY($1::bigint[])', [ids]);
  for (const row of r.rows) out.set(row.id, row.hash);
  return out;
}

async function leavesIn(q: Sql, start: number, end: number): Promise<Uint8Array[]> {
  if (end <= start) return [];
  const r = await q.query<{ seq: number; leaf_hash: Buffer }>('SELECT seq, leaf_hash FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq', [start, end]);
  if (r.rows.length !== end - start) throw new Error(`audit entries ${start}..${end - 1} are missing from the tree's leaves`);
  return r.rows.map((x) => x.leaf_hash);
}

/** The right edge of the first `size` leaves: two reads (the stored nodes, the last leaves). */
export async function readEdge(q: Sql, size: number): Promise<RightEdge | undefined> {
  const parts = edgeNodes(size);
  const lowStart = size - (size % BLOCK);
  const [stored, low] = [await nodesById(q, parts.filter((p) => p.level >= STORED_FROM).map((p) => nodeId(p.level, p.index))), await leavesIn(q, lowStart, size)];
  const hashes: Uint8Array[] = [];
  for (const p of parts) {
    if (p.level >= STORED_FROM) {
      const h = stored.get(nodeId(p.level, p.index));
      if (!h) return undefined;
      hashes.push(h);
    } else {
      const from = p.index * 2 ** p.level - lowStart;
      hashes.push(fromLeaves(low.slice(from, from + 2 ** p.level)));
    }
  }
  return new RightEdge(size, hashes);
}

export interface PgTreeAppender {
  /**
   * Inside the write transaction, holding the sequencer, before any entry of it is
   * buffered: makes sure the cached edge is the tree of `size` leaves (another replica
   * may have appended since), reading it back if not. `prefetched`: the leaf hashes
   * from the cached size on, read in the same round trip as the lock.
   */
  load(q: Sql, size: number, prefetched?: readonly Uint8Array[]): Promise<void>;
  /** The size of the cached edge, if any: the writer prefetches the leaves appended since with its lock. */
  cachedSize(): number | undefined;
  /** Appends the leaf hashes of entries first, first+1, ...; `stored` gets each node to keep. */
  append(first: number, leaves: readonly Uint8Array[], stored: (id: number, hash: Buffer) => void): void;
  /** Forgets the cached edge (after a rollback). */
  invalidate(): void;
}

export function createPgTreeAppender(): PgTreeAppender {
  let edge: RightEdge | undefined;
  return {
    cachedSize: () => edge?.size,
    async load(q, size, prefetched) {
      if (edge && edge.size === size) return;
      // Another replica appended a few entries since: the cached edge is still their
      // prefix (the log is append-only), so their leaves alone bring it up to date (one
      // read instead of two). Their nodes were stored by the replica that wrote them.
      if (edge && edge.size < size && size - edge.size <= CATCH_UP_MAX) {
        const cached = edge;
        edge = undefined; // unusable if the read fails halfway
        const leaves = prefetched?.length === size - cached.size ? prefetched : await leavesIn(q, cached.size, size);
        for (const h of leaves) cached.append(h, () => undefined);
        edge = cached;
        return;
      }
      edge = await readEdge(q, size);
      if (!edge) throw new Error('the audit tree is behind its entries; restart the replica to rebuild it');
    },
    append(first, leaves, stored) {
      if (!edge || edge.size !== first) throw new Error(`the audit tree's edge is not loaded at ${first}`);
      for (const h of leaves) {
        edge.append(h, (level, index, hash) => {
          if (level >= STORED_FROM) stored(nodeId(level, index), fromLatin1(hash));
        });
      }
    },
    invalidate() {
      edge = undefined;
    },
  };
}

/**
 * TreeNodes for one proof or root: every node it needs (nodesNeeded) is fetched first,
 * in two queries, then served synchronously. Nodes of 1,024 leaves or more never change
 * and are kept across calls.
 */
export function createPgTreeReader(q: Sql): (needs: ReadonlyArray<{ level: number; index: number }>) => Promise<TreeNodes> {
  const upper = new Map<number, Uint8Array>();
  return async (needs) => {
    const wanted = new Map<number, number>();
    const leafSeqs = new Set<number>();
    for (const x of needs) {
      if (x.level >= STORED_FROM) {
        const id = nodeId(x.level, x.index);
        if (!upper.has(id)) wanted.set(id, x.level);
      } else {
        for (let i = 0; i < 2 ** x.level; i++) leafSeqs.add(x.index * 2 ** x.level + i);
      }
    }
    const stored = await nodesById(q, [...wanted.keys()]);
    for (const [id, h] of stored) if (wanted.get(id)! >= CACHED_FROM && upper.size < MAX_CACHED) upper.set(id, h);
    const leaves = new Map<number, Uint8Array>();
    if (leafSeqs.size) {
      const r = await q.query<{ seq: number; leaf_hash: Buffer }>('SELECT seq, leaf_hash FROM audit_entries WHERE seq = ANY($1::bigint[])', [[...leafSeqs]]);
      for (const row of r.rows) leaves.set(row.seq, row.leaf_hash);
    }
    const leaf = (seq: number) => {
      const h = leaves.get(seq);
      if (!h) throw new Error(`audit entry ${seq} is missing from the tree's leaves`);
      return h;
    };
    return {
      node(level, index) {
        if (level >= STORED_FROM) {
          const id = nodeId(level, index);
          const h = stored.get(id) ?? upper.get(id);
          if (!h) throw new Error(`the audit tree has no node (${level}, ${index})`);
          return h;
        }
        const start = index * 2 ** level;
        return level === 0 ? leaf(start) : fromLeaves(Array.from({ length: 2 ** level }, (_, i) => leaf(start + i)));
      },
    };
  };
}

/**
 * Brings the stored nodes up to the entries (entries copied in without their nodes):
 * recomputes every node from the leaf hashes and inserts the missing ones. O(n); a
 * no-op when the edge of the current size is all there.
 */
export async function catchUpPgTree(q: Sql, size: number): Promise<number> {
  if (await readEdge(q, size)) return 0;
  const edge = new RightEdge();
  let added = 0;
  while (edge.size < size) {
    const rows = (await q.query<{ seq: number; leaf_hash: Buffer }>('SELECT seq, leaf_hash FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq LIMIT 10000', [edge.size, size])).rows;
    if (rows.length === 0) throw new Error(`audit entry ${edge.size} is missing`);
    const ids: number[] = [];
    const hashes: Buffer[] = [];
    for (const row of rows) {
      if (row.seq !== edge.size) throw new Error(`audit entry ${edge.size} is missing`);
      edge.append(row.leaf_hash, (level, index, hash) => {
        if (level >= STORED_FROM) {
          ids.push(nodeId(level, index));
          hashes.push(fromLatin1(hash));
        }
      });
    }
    const r = await q.query('INSERT INTO audit_tree_nodes (id, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[]) ON CONFLICT (id) DO NOTHING', [ids, hashes]);
    added += r.rowCount ?? 0;
  }
  return added;
}
