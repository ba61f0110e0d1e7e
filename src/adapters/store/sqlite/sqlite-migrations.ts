import { AppError } from '../../../domain/errors.js';
import type { SqliteDb } from './sqlite-db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, as numbered steps. A step is never edited once released: change the
 * schema by adding the next one. Times are INTEGER milliseconds since the epoch so
 * that comparisons are between instants, whatever ISO-8601 spelling the caller used.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'actions, audience and audit log',
    sql: `
      CREATE TABLE actions (
        id TEXT PRIMARY KEY NOT NULL,
        status TEXT NOT NULL,
        mode TEXT NOT NULL,
        requester_id TEXT NOT NULL,
        idempotency_key TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER,          -- pending actions only
        next_escalation_at INTEGER,  -- pending actions only
        version INTEGER NOT NULL CHECK (version >= 1),
        record TEXT NOT NULL         -- the full ActionRecord as JSON
      );
      CREATE UNIQUE INDEX actions_idempotency ON actions (requester_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX actions_created ON actions (created_at, id);
      CREATE INDEX actions_status ON actions (status, created_at, id);
      CREATE INDEX actions_requester ON actions (requester_id, created_at, id);
      -- Executions to start: approved in execute mode is transient, so this index stays tiny.
      CREATE INDEX actions_to_run ON actions (created_at, id) WHERE status = 'approved' AND mode = 'execute';
      CREATE INDEX actions_expiry ON actions (expires_at, id) WHERE expires_at IS NOT NULL;
      CREATE INDEX actions_escalation ON actions (next_escalation_at, id) WHERE next_escalation_at IS NOT NULL;

      CREATE TABLE action_audience (
        principal TEXT NOT NULL,
        action_id TEXT NOT NULL REFERENCES actions (id),
        PRIMARY KEY (principal, action_id)
      ) WITHOUT ROWID;
      CREATE INDEX action_audience_action ON action_audience (action_id);

      CREATE TABLE audit_entries (
        seq INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 0),
        ts TEXT NOT NULL,
        type TEXT NOT NULL,
        action_id TEXT,
        bytes BLOB NOT NULL,
        leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
      );
      CREATE INDEX audit_entries_action ON audit_entries (action_id, seq) WHERE action_id IS NOT NULL;
      -- The log is append-only at the database level too, whoever writes to it. Sequence
      -- numbers are assigned in one place (sqlite-audit.ts) inside the write transaction,
      -- and gaps are what the offline verifier reports; a per-insert contiguity trigger
      -- cost a quarter of every durable write.
      CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
      CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
    `,
  },
  {
    version: 2,
    name: 'verifiable audit log: Merkle tree, signed checkpoints, delivery cursors',
    sql: `
      -- Perfect subtrees of 16 leaves or more, by in-order position (sqlite-tree.ts);
      -- written in the same transaction as the entries they cover.
      CREATE TABLE audit_tree_nodes (
        id INTEGER PRIMARY KEY NOT NULL CHECK (id >= 0),
        hash BLOB NOT NULL CHECK (length(hash) = 32)
      );
      CREATE TRIGGER audit_tree_nodes_no_update BEFORE UPDATE ON audit_tree_nodes
        BEGIN SELECT RAISE(ABORT, 'audit tree nodes are append-only'); END;
      CREATE TRIGGER audit_tree_nodes_no_delete BEFORE DELETE ON audit_tree_nodes
        BEGIN SELECT RAISE(ABORT, 'audit tree nodes are append-only'); END;

      -- Every signed checkpoint, kept: at most one per tree size.
      CREATE TABLE audit_checkpoints (
        size INTEGER PRIMARY KEY NOT NULL CHECK (size >= 0),
        root BLOB NOT NULL CHECK (length(root) = 32),
        note TEXT NOT NULL,
        signed_at TEXT NOT NULL
      );
      CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'checkpoints are kept as signed'); END;
      CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'checkpoints are kept as signed'); END;

      -- Witnesses' cosignatures of checkpoints (verified before they are stored).
      CREATE TABLE audit_cosignatures (
        size INTEGER NOT NULL REFERENCES audit_checkpoints (size),
        witness TEXT NOT NULL,
        line TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (size, witness)
      ) WITHOUT ROWID;

      -- Where each outside delivery (witness, SIEM sink) is: a position and a lease, so
      -- that one process at a time delivers and a restart resumes.
      CREATE TABLE audit_cursors (
        name TEXT PRIMARY KEY NOT NULL,
        position INTEGER NOT NULL CHECK (position >= 0),
        lease_owner TEXT,
        lease_until INTEGER,
        updated_at TEXT NOT NULL
      ) WITHOUT ROWID;

      -- Each action record lists the sequence numbers of its entries (set by the store
      -- from now on; filled in here for actions written before).
      UPDATE actions SET record = json_set(record, '$.auditSeqs',
        json((SELECT json_group_array(seq) FROM (SELECT seq FROM audit_entries e WHERE e.action_id = actions.id ORDER BY seq))));
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

function currentVersion(db: SqliteDb): number {
  const row = db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number };
  return row.v;
}

function refuseNewer(found: number, known: number): never {
  throw new AppError(
    'STORAGE_ERROR',
    `The database has schema version ${found}, newer than this Countersign knows (${known}): it was written by a newer release. Upgrade Countersign or use another database file.`,
  );
}

/**
 * Brings the schema to LATEST_VERSION. Each step runs in its own IMMEDIATE transaction
 * with its row in schema_migrations, and re-reads the version inside it, so two
 * processes starting together apply each step once. A database from a newer release
 * is refused untouched: this code cannot know what its data means.
 */
export function migrate(db: SqliteDb, migrations: readonly Migration[] = MIGRATIONS): number {
  const known = migrations.reduce((v, m) => Math.max(v, m.version), 0);
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const found = currentVersion(db);
  if (found > known) refuseNewer(found, known);
  const steps = [...migrations].sort((a, b) => a.version - b.version).filter((m) => m.version > found);
  for (const m of steps) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const now = currentVersion(db);
      if (now > known) refuseNewer(now, known);
      if (now < m.version) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      }
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }
  return currentVersion(db);
}
