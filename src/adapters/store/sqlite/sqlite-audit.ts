import type { AuditDraft, AuditEntry, EncodedDraft } from '../../../domain/audit-entry.js';
import { decodeAuditEntry, encodeAuditEntry, entryBytes, leafHash } from '../../../domain/audit-entry.js';
import type { SqliteDb } from './sqlite-db.js';
import type { TreeAppender } from './sqlite-tree.js';
import { createTreeAppender } from './sqlite-tree.js';

interface AuditRow {
  seq: number;
  bytes: Buffer;
  leaf_hash: Buffer;
}

export interface AuditTable {
  /**
   * THE one place entries are appended. Must run inside the write transaction: the
   * next sequence number is read from the table there (or given, as read by `nextSeq`
   * in the same transaction), never from a counter in this process, because another
   * process may append to the same file. The Merkle tree's new nodes are written in
   * the same transaction (sqlite-tree.ts).
   */
  appendEntries(drafts: readonly AuditDraft[], first?: number): AuditEntry[];
  /** appendEntries() of drafts the sending thread encoded (a packed insert): nothing is returned, nothing decoded. */
  appendEncoded(drafts: readonly EncodedDraft[], first: number): void;
  /** The next sequence number, inside the write transaction. */
  nextSeq(): number;
  /** The tree's appender (its cached edge is dropped on rollback). */
  readonly tree: TreeAppender;
  read(start: number, end: number): AuditEntry[];
  seqsFor(actionId: string): number[];
  size(): number;
}

export function createAuditTable(db: SqliteDb): AuditTable {
  const next = db.prepare('SELECT COALESCE(MAX(seq) + 1, 0) AS n FROM audit_entries');
  const insert = db.prepare('INSERT INTO audit_entries (seq, ts, type, action_id, bytes, leaf_hash) VALUES (?, ?, ?, ?, ?, ?)');
  const range = db.prepare('SELECT seq, bytes, leaf_hash FROM audit_entries WHERE seq >= ? AND seq < ? ORDER BY seq');
  const seqs = db.prepare('SELECT seq FROM audit_entries WHERE action_id = ? ORDER BY seq');

  const tree = createTreeAppender(db);
  const startAt = (first: number | undefined): number => {
    if (!db.inTransaction) throw new Error('audit entries are appended inside a write transaction only');
    return first ?? (next.get() as { n: number }).n;
  };

  return {
    tree,
    nextSeq: () => (next.get() as { n: number }).n,
    appendEntries(drafts, first) {
      if (drafts.length === 0) return [];
      const start = startAt(first);
      const entries = drafts.map((d, i) => encodeAuditEntry(start + i, d));
      for (const e of entries) insert.run(e.seq, e.ts, e.type, e.actionId ?? null, e.bytes, e.leafHash);
      tree.append(start, entries.map((e) => e.leafHash));
      return entries;
    },
    appendEncoded(drafts, first) {
      if (drafts.length === 0) return;
      const start = startAt(first);
      const leaves = drafts.map((d, i) => {
        const bytes = entryBytes(d, start + i);
        const leaf = leafHash(bytes);
        insert.run(start + i, d.ts, d.type, d.actionId ?? null, bytes, leaf);
        return leaf;
      });
      tree.append(start, leaves);
    },
    read(start, end) {
      return (range.all(Math.max(0, Math.floor(start)), Math.floor(end)) as AuditRow[]).map((row) => {
        const e = decodeAuditEntry(row.bytes);
        // The stored leaf hash is what the Merkle tree is built from: return it, not a recomputation.
        e.leafHash = row.leaf_hash;
        if (e.seq !== row.seq) throw new Error(`audit entry ${row.seq} holds sequence number ${e.seq}`);
        return e;
      });
    },
    seqsFor(actionId) {
      return (seqs.all(actionId) as Array<{ seq: number }>).map((r) => r.seq);
    },
    size() {
      return (next.get() as { n: number }).n;
    },
  };
}
