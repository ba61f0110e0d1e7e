import type { AuditDraft, AuditEntry } from '../../../domain/audit-entry.js';
import { decodeAuditEntry, encodeAuditEntry } from '../../../domain/audit-entry.js';
import { consistencyProof, inclusionProof, nodesNeeded, rootAt } from '../../../domain/merkle.js';
import type { StoredCheckpoint } from '../../../ports/audit-log.js';
import type { Sql } from './pg-connect.js';
import type { PgTreeAppender } from './pg-tree.js';
import { createPgTreeReader } from './pg-tree.js';

/**
 * The sequencer, inside a write transaction: locks the one `audit_head` row until the
 * transaction ends and returns the next sequence number. Every transaction that appends
 * entries (or stores a checkpoint) takes it first, so appends from every replica are
 * serialized: sequence numbers are contiguous and there is one tree.
 */
export async function lockHead(q: Sql): Promise<number> {
  const r = await q.query<{ next_seq: number }>('SELECT next_seq FROM audit_head WHERE id FOR UPDATE');
  if (!r.rows[0]) throw new Error('the audit sequencer row is missing');
  return r.rows[0].next_seq;
}

/** Entries and tree nodes appended in a transaction and not yet sent: written in one INSERT each. */
export interface PendingLog {
  entries: AuditEntry[];
  nodeIds: number[];
  nodeHashes: Buffer[];
}

export const emptyPending = (): PendingLog => ({ entries: [], nodeIds: [], nodeHashes: [] });

/**
 * The one place entries are appended, inside the write transaction after lockHead:
 * `head.next` is the next sequence number and moves forward here; the caller writes it
 * back (saveHead) before COMMIT. The rows are buffered in `pending` and sent by
 * flushPending (before COMMIT, and before anything in the transaction reads the log), so
 * that a batch of writes costs one INSERT of entries and one of tree nodes.
 */
export function appendEntries(head: { next: number }, tree: PgTreeAppender, pending: PendingLog, drafts: readonly AuditDraft[]): AuditEntry[] {
  if (drafts.length === 0) return [];
  const start = head.next;
  const entries = drafts.map((d, i) => encodeAuditEntry(start + i, d));
  tree.append(start, entries.map((e) => e.leafHash), (id, hash) => {
    pending.nodeIds.push(id);
    pending.nodeHashes.push(hash);
  });
  pending.entries.push(...entries);
  head.next = start + entries.length;
  return entries;
}

export async function flushPending(q: Sql, pending: PendingLog): Promise<void> {
  const entries = pending.entries.splice(0);
  const ids = pending.nodeIds.splice(0);
  const hashes = pending.nodeHashes.splice(0);
  if (entries.length) {
    await q.query(
      `INSERT INTO audit_entries (seq, ts, type, action_id, bytes, leaf_hash)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::bytea[])`,
      [entries.map((e) => e.seq), entries.map((e) => e.ts), entries.map((e) => e.type), entries.map((e) => e.actionId ?? null), entries.map((e) => Buffer.from(e.bytes)), entries.map((e) => Buffer.from(e.leafHash))],
    );
  }
  if (ids.length) await q.query('INSERT INTO audit_tree_nodes (id, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])', [ids, hashes]);
}

/**
 * The buffered rows as statements with literal values (escaped text, hex bytea, checked
 * integers), for the batch's last round trip: the simple query protocol takes several
 * statements at once but no parameters. Empties `pending`.
 */
export function pendingStatements(pending: PendingLog, literal: (s: string) => string): string[] {
  const entries = pending.entries.splice(0);
  const ids = pending.nodeIds.splice(0);
  const hashes = pending.nodeHashes.splice(0);
  const int = (n: number) => {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a position in the log: ${n}`);
    return String(n);
  };
  const hex = (b: Uint8Array) => `decode('${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}', 'hex')`;
  const out: string[] = [];
  if (entries.length) {
    const rows = entries.map((e) => `(${int(e.seq)}, ${literal(e.ts)}, ${literal(e.type)}, ${e.actionId === undefined ? 'NULL' : literal(e.actionId)}, ${hex(e.bytes)}, ${hex(e.leafHash)})`);
    out.push(`INSERT INTO audit_entries (seq, ts, type, action_id, bytes, leaf_hash) VALUES ${rows.join(', ')}`);
  }
  if (ids.length) out.push(`INSERT INTO audit_tree_nodes (id, hash) VALUES ${ids.map((id, i) => `(${int(id)}, ${hex(hashes[i]!)})`).join(', ')}`);
  return out;
}

export async function auditSize(q: Sql): Promise<number> {
  const r = await q.query<{ next_seq: number }>('SELECT next_seq FROM audit_head WHERE id');
  return r.rows[0]?.next_seq ?? 0;
}

export async function readEntries(q: Sql, start: number, end: number): Promise<AuditEntry[]> {
  const from = Number.isFinite(start) ? Math.max(0, Math.floor(start)) : 0;
  const to = end === Infinity ? Number.MAX_SAFE_INTEGER : Number.isFinite(end) ? Math.floor(end) : 0;
  if (from >= to) return [];
  const r = await q.query<{ seq: number; bytes: Buffer; leaf_hash: Buffer }>('SELECT seq, bytes, leaf_hash FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq', [from, to]);
  return r.rows.map((row) => {
    const e = decodeAuditEntry(row.bytes);
    // The stored leaf hash is what the tree is built from: return it, not a recomputation.
    e.leafHash = row.leaf_hash;
    if (e.seq !== row.seq) throw new Error(`audit entry ${row.seq} holds sequence number ${e.seq}`);
    return e;
  });
}

export async function seqsFor(q: Sql, actionId: string): Promise<number[]> {
  return (await q.query<{ seq: number }>('SELECT seq FROM audit_entries WHERE action_id = $1 ORDER BY seq', [actionId])).rows.map((r) => r.seq);
}

interface CheckpointRow {
  size: number;
  root: Buffer;
  note: string;
  signed_at: string;
}

/** Writes of the verifiable log, in the writer's transaction. addCheckpoint runs after lockHead. */
export const auditLogWrites = {
  async addCheckpoint(q: Sql, logSize: number, cp: { size: number; root: Uint8Array; note: string; signedAt: string }, previousSize: number): Promise<boolean> {
    const found = (await q.query<{ size: number | null }>('SELECT MAX(size) AS size FROM audit_checkpoints')).rows[0]?.size ?? -1;
    if (found !== previousSize || cp.size <= previousSize) return false;
    if (cp.size > logSize) throw new Error(`a checkpoint of ${cp.size} entries for a log of fewer`);
    await q.query('INSERT INTO audit_checkpoints (size, root, note, signed_at) VALUES ($1, $2, $3, $4)', [cp.size, Buffer.from(cp.root), cp.note, cp.signedAt]);
    return true;
  },
  async addCosignature(q: Sql, size: number, witness: string, line: string, at: string): Promise<void> {
    await q.query('INSERT INTO audit_cosignatures (size, witness, line, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [size, witness, line, at]);
  },
  async claimCursor(q: Sql, name: string, owner: string, nowMs: number, untilMs: number): Promise<number | undefined> {
    const now = new Date().toISOString();
    const created = await q.query('INSERT INTO audit_cursors (name, position, lease_owner, lease_until, updated_at) VALUES ($1, 0, $2, $3, $4) ON CONFLICT (name) DO NOTHING', [name, owner, untilMs, now]);
    if (created.rowCount === 1) return 0;
    const row = (await q.query<{ position: number; lease_owner: string | null; lease_until: number | null }>('SELECT position, lease_owner, lease_until FROM audit_cursors WHERE name = $1 FOR UPDATE', [name])).rows[0]!;
    if (row.lease_owner !== owner && row.lease_owner !== null && (row.lease_until ?? 0) > nowMs) return undefined;
    await q.query('UPDATE audit_cursors SET lease_owner = $1, lease_until = $2, updated_at = $3 WHERE name = $4', [owner, untilMs, now, name]);
    return row.position;
  },
  async advanceCursor(q: Sql, name: string, owner: string, from: number, to: number): Promise<boolean> {
    const r = await q.query('UPDATE audit_cursors SET position = $1, updated_at = $2 WHERE name = $3 AND position = $4 AND lease_owner = $5', [to, new Date().toISOString(), name, from, owner]);
    return r.rowCount === 1;
  },
};

/** Reads of the verifiable log, on the pool. */
export function createAuditLogReads(q: Sql) {
  const tree = createPgTreeReader(q);
  const checkpoints = async (rows: CheckpointRow[]): Promise<StoredCheckpoint[]> => {
    if (rows.length === 0) return [];
    const cos = await q.query<{ size: number; line: string }>('SELECT size, line FROM audit_cosignatures WHERE size = ANY($1::bigint[]) ORDER BY size, witness', [rows.map((r) => r.size)]);
    return rows.map((r) => ({ size: r.size, root: r.root, note: r.note, signedAt: r.signed_at, cosignatures: cos.rows.filter((c) => c.size === r.size).map((c) => c.line) }));
  };
  const within = async (name: string, n: number) => {
    const max = await auditSize(q);
    if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new RangeError(`${name} ${n} is outside the log of ${max} entries`);
  };
  const SELECT = 'SELECT size, root, note, signed_at FROM audit_checkpoints';
  return {
    async rootAt(n: number) {
      await within('size', n);
      return rootAt(await tree(nodesNeeded({ root: n })), n);
    },
    async inclusionProof(index: number, n: number) {
      await within('size', n);
      return inclusionProof(await tree(nodesNeeded({ inclusion: [index, n] })), index, n);
    },
    async consistencyProof(a: number, b: number) {
      await within('size', b);
      return consistencyProof(await tree(nodesNeeded({ consistency: [a, b] })), a, b);
    },
    latestCheckpoint: async () => (await checkpoints((await q.query<CheckpointRow>(`${SELECT} ORDER BY size DESC LIMIT 1`)).rows))[0],
    listCheckpoints: async (fromSize: number, limit: number) =>
      checkpoints((await q.query<CheckpointRow>(`${SELECT} WHERE size >= $1 ORDER BY size LIMIT $2`, [Math.max(0, Math.floor(fromSize)), Math.max(0, Math.floor(limit))])).rows),
    checkpointCovering: async (n: number) => (await checkpoints((await q.query<CheckpointRow>(`${SELECT} WHERE size >= $1 ORDER BY size LIMIT 1`, [Math.max(0, Math.floor(n))])).rows))[0],
    cursor: async (name: string) => (await q.query<{ position: number }>('SELECT position FROM audit_cursors WHERE name = $1', [name])).rows[0]?.position,
  };
}
