// What the AuditLog conformance suite cannot say for every store: SQLite's guards on
// the tree and the checkpoints, the upgrade of a database written before the tree
// existed, and the appender's cached edge after a rollback.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAgentTables } from '../../src/adapters/store/sqlite/sqlite-agent-tables.js';
import { createChannelTables } from '../../src/adapters/store/sqlite/sqlite-channels.js';
import { createConsoleTables } from '../../src/adapters/store/sqlite/sqlite-console-tables.js';
import { createActionsTable } from '../../src/adapters/store/sqlite/sqlite-actions.js';
import { createAuditTable } from '../../src/adapters/store/sqlite/sqlite-audit.js';
import { createAuditLogTable } from '../../src/adapters/store/sqlite/sqlite-audit-log.js';
import { createHistoryTables } from '../../src/adapters/store/sqlite/sqlite-history.js';
import { openSqlite } from '../../src/adapters/store/sqlite/sqlite-db.js';
import { packAction } from '../../src/adapters/store/sqlite/sqlite-packed-action.js';
import { MIGRATIONS, migrate } from '../../src/adapters/store/sqlite/sqlite-migrations.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { createWriteOps } from '../../src/adapters/store/sqlite/sqlite-write-ops.js';
import { createInlineWriter } from '../../src/adapters/store/sqlite/sqlite-writer.js';
import { encodeAuditEntry } from '../../src/domain/audit-entry.js';
import { nodesOfLeaves, rootAt } from '../../src/domain/merkle.js';
import { newAction, range } from './store-fixtures.js';

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-tree-'));
  path = join(dir, 'countersign.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const draft = (i: number) => ({ type: 'policy.loaded' as const, ts: new Date(i).toISOString(), data: { version: `v${i}` } });

describe('the SQLite tree and checkpoints', () => {
  it('refuses to change or delete a tree node or a checkpoint, whoever writes', async () => {
    const s = createSqliteStore({ path, writer: 'inline' });
    await s.appendAudit(range(40).map(draft));
    expect(await s.addCheckpoint({ size: 40, root: await s.rootAt(40), note: 'n\n', signedAt: 'x' }, -1)).toBe(true);
    await s.close();
    const db = new Database(path);
    try {
      expect(() => db.prepare('UPDATE audit_tree_nodes SET hash = zeroblob(32)').run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit_tree_nodes').run()).toThrow(/append-only/);
      expect(() => db.prepare("UPDATE audit_checkpoints SET note = 'forged'").run()).toThrow(/kept as signed/);
      expect(() => db.prepare('DELETE FROM audit_checkpoints').run()).toThrow(/kept as signed/);
    } finally {
      db.close();
    }
  });

  it('upgrades a database written before the tree: action records get their sequence numbers, the tree is built', async () => {
    const db = openSqlite(path, 1000);
    migrate(db, MIGRATIONS.filter((m) => m.version === 1));
    const t = newAction();
    db.prepare('INSERT INTO actions (id, status, mode, requester_id, created_at, updated_at, version, record) VALUES (?, ?, ?, ?, 0, 0, 1, ?)').run(t.next.id, t.next.status, t.next.mode, t.next.requester.id, JSON.stringify(t.next));
    const entries = range(37).map((i) => encodeAuditEntry(i, i % 9 === 4 ? { ...t.audit[0]!, actionId: t.next.id } : draft(i)));
    for (const e of entries) db.prepare('INSERT INTO audit_entries (seq, ts, type, action_id, bytes, leaf_hash) VALUES (?, ?, ?, ?, ?, ?)').run(e.seq, e.ts, e.type, e.actionId ?? null, e.bytes, e.leafHash);
    db.close();

    const s = createSqliteStore({ path, writer: 'inline' });
    try {
      expect((await s.getAction(t.next.id))!.auditSeqs).toEqual([4, 13, 22, 31]);
      const mem = nodesOfLeaves(entries.map((e) => e.leafHash));
      expect(Buffer.from(await s.rootAt(37)).equals(Buffer.from(rootAt(mem, 37)))).toBe(true);
      await s.appendAudit([draft(37)]);
      expect(await s.treeSize()).toBe(38);
    } finally {
      await s.close();
    }
  });

  it('rebuilds missing tree nodes when it opens (entries written behind its back)', async () => {
    const s = createSqliteStore({ path, writer: 'inline' });
    await s.appendAudit(range(50).map(draft));
    const root = await s.rootAt(50);
    await s.close();
    const db = new Database(path);
    db.exec('DROP TRIGGER audit_tree_nodes_no_delete; DELETE FROM audit_tree_nodes WHERE id > 40');
    db.close();
    const again = createSqliteStore({ path, writer: 'inline' });
    try {
      expect(Buffer.from(await again.rootAt(50)).equals(Buffer.from(root))).toBe(true);
    } finally {
      await again.close();
    }
  });

  it("drops the appender's cached edge when a transaction rolls back, so another writer's entries are never built over", () => {
    const db = openSqlite(path, 1000);
    migrate(db);
    const other = openSqlite(path, 1000);
    try {
      const audit = createAuditTable(db);
      const theirs = createAuditTable(other);
      db.exec('BEGIN IMMEDIATE');
      audit.appendEntries(range(15).map(draft));
      db.exec('ROLLBACK');
      audit.tree.invalidate();
      // Same count, other entries: only the invalidation tells the edge apart. The next
      // append completes 16 leaves, a node the store keeps.
      other.exec('BEGIN IMMEDIATE');
      theirs.appendEntries(range(15).map((i) => draft(100 + i)));
      other.exec('COMMIT');
      db.exec('BEGIN IMMEDIATE');
      audit.appendEntries([draft(7)]);
      db.exec('COMMIT');
      const leaves = (db.prepare('SELECT leaf_hash FROM audit_entries ORDER BY seq').all() as Array<{ leaf_hash: Buffer }>).map((r) => r.leaf_hash);
      const reader = createSqliteStore({ path, writer: 'inline' });
      return reader
        .rootAt(16)
        .then((root) => expect(Buffer.from(root).equals(Buffer.from(rootAt(nodesOfLeaves(leaves), 16)))).toBe(true))
        .finally(() => reader.close());
    } finally {
      db.close();
      other.close();
    }
  });

  it('the group-commit writer reports every rollback', async () => {
    const db = openSqlite(path, 1000);
    migrate(db);
    const rolledBack = vi.fn();
    const audit = createAuditTable(db);
    const writer = createInlineWriter(db, createWriteOps({ actions: createActionsTable(db), audit, auditLog: createAuditLogTable(db), agent: createAgentTables(db), channels: createChannelTables(db), console: createConsoleTables(db), history: createHistoryTables(db) }), 16, rolledBack);
    const t = newAction();
    const results = await Promise.allSettled([
      writer.submit('insertAction', { action: packAction(t.next, t.audit) }),
      writer.submit('updateAction', { next: { ...t.next, version: 5 }, expectedVersion: 1, drafts: [] }),
      writer.submit('appendAudit', { drafts: [draft(1)] }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(rolledBack).toHaveBeenCalled();
    await writer.drain();
    db.close();
  });
});
