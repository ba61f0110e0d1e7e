import { consistencyProof, inclusionProof, nodesNeeded, rootAt } from '../../../domain/merkle.js';
import type { StoredCheckpoint } from '../../../ports/audit-log.js';
import type { SqliteDb } from './sqlite-db.js';
import { createTreeReader } from './sqlite-tree.js';

interface CheckpointRow {
  size: number;
  root: Uint8Array;
  note: string;
  signed_at: string;
}

/** Writes of the verifiable log; they run in the writer's transaction (sqlite-write-ops.ts). */
export interface AuditLogTable {
  addCheckpoint(cp: { size: number; root: Uint8Array; note: string; signedAt: string }, previousSize: number): boolean;
  addCosignature(size: number, witness: string, line: string, at: string): void;
  claimCursor(name: string, owner: string, nowMs: number, untilMs: number): number | undefined;
  advanceCursor(name: string, owner: string, from: number, to: number): boolean;
}

export function createAuditLogTable(db: SqliteDb): AuditLogTable {
  const latest = db.prepare('SELECT MAX(size) AS size FROM audit_checkpoints');
  const size = db.prepare('SELECT COALESCE(MAX(seq) + 1, 0) AS n FROM audit_entries');
  const insert = db.prepare('INSERT INTO audit_checkpoints (size, root, note, signed_at) VALUES (?, ?, ?, ?)');
  const cosig = db.prepare('INSERT OR IGNORE INTO audit_cosignatures (size, witness, line, received_at) VALUES (?, ?, ?, ?)');
  const getCursor = db.prepare('SELECT position, lease_owner, lease_until FROM audit_cursors WHERE name = ?');
  const newCursor = db.prepare('INSERT INTO audit_cursors (name, position, lease_owner, lease_until, updated_at) VALUES (?, 0, ?, ?, ?)');
  const lease = db.prepare('UPDATE audit_cursors SET lease_owner = ?, lease_until = ?, updated_at = ? WHERE name = ?');
  const advance = db.prepare('UPDATE audit_cursors SET position = ?, updated_at = ? WHERE name = ? AND position = ? AND lease_owner = ?');
  const now = () => new Date().toISOString();

  return {
    addCheckpoint(cp, previousSize) {
      const found = (latest.get() as { size: number | null }).size ?? -1;
      if (found !== previousSize || cp.size <= previousSize) return false;
      if (cp.size > (size.get() as { n: number }).n) throw new Error(`a checkpoint of ${cp.size} entries for a log of fewer`);
      insert.run(cp.size, cp.root, cp.note, cp.signedAt);
      return true;
    },
    addCosignature(s, witness, line, at) {
      cosig.run(s, witness, line, at);
    },
    claimCursor(name, owner, nowMs, untilMs) {
      const row = getCursor.get(name) as { position: number; lease_owner: string | null; lease_until: number | null } | undefined;
      if (!row) {
        newCursor.run(name, owner, untilMs, now());
        return 0;
      }
      if (row.lease_owner !== owner && row.lease_owner !== null && (row.lease_until ?? 0) > nowMs) return undefined;
      lease.run(owner, untilMs, now(), name);
      return row.position;
    },
    advanceCursor(name, owner, from, to) {
      return advance.run(to, now(), name, from, owner).changes === 1;
    },
  };
}

/** Reads of the verifiable log, on the store's read connection. */
export function createAuditLogReads(db: SqliteDb) {
  const tree = createTreeReader(db);
  const size = db.prepare('SELECT COALESCE(MAX(seq) + 1, 0) AS n FROM audit_entries');
  const latest = db.prepare('SELECT size, root, note, signed_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1');
  const from = db.prepare('SELECT size, root, note, signed_at FROM audit_checkpoints WHERE size >= ? ORDER BY size LIMIT ?');
  const cosigs = db.prepare('SELECT line FROM audit_cosignatures WHERE size = ? ORDER BY witness').pluck();
  const cursor = db.prepare('SELECT position FROM audit_cursors WHERE name = ?').pluck();

  const treeSize = () => (size.get() as { n: number }).n;
  const checkpoint = (row: CheckpointRow): StoredCheckpoint => ({
    size: row.size,
    root: row.root,
    note: row.note,
    signedAt: row.signed_at,
    cosignatures: cosigs.all(row.size) as string[],
  });
  const within = (name: string, n: number, max: number) => {
    if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new RangeError(`${name} ${n} is outside the log of ${max} entries`);
  };

  return {
    treeSize,
    rootAt(n: number) {
      within('size', n, treeSize());
      return rootAt(tree(nodesNeeded({ root: n })), n);
    },
    inclusionProof(index: number, n: number) {
      within('size', n, treeSize());
      return inclusionProof(tree(nodesNeeded({ inclusion: [index, n] })), index, n);
    },
    consistencyProof(a: number, b: number) {
      within('size', b, treeSize());
      return consistencyProof(tree(nodesNeeded({ consistency: [a, b] })), a, b);
    },
    latestCheckpoint() {
      const row = latest.get() as CheckpointRow | undefined;
      return row ? checkpoint(row) : undefined;
    },
    listCheckpoints(fromSize: number, limit: number) {
      return (from.all(Math.max(0, Math.floor(fromSize)), Math.max(0, Math.floor(limit))) as CheckpointRow[]).map(checkpoint);
    },
    checkpointCovering(n: number) {
      const row = from.get(Math.max(0, Math.floor(n)), 1) as CheckpointRow | undefined;
      return row ? checkpoint(row) : undefined;
    },
    cursor(name: string) {
      return cursor.get(name) as number | undefined;
    },
  };
}
