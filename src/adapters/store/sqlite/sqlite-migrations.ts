import { AppError } from '../../../domain/errors.js';
import { grantAudienceOf } from '../../../domain/grant-access.js';
import type { Grant } from '../../../domain/grant.js';
import { CONSOLE_MIGRATION } from './sqlite-console-migration.js';
import type { SqliteDb } from './sqlite-db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Rows the SQL alone cannot derive (JavaScript's case rules), written in the step's transaction. */
  backfill?: (db: SqliteDb) => void;
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
    version: 4,
    name: 'held calls and MCP tool pins',
    sql: `
      -- Calls an agent repeats to learn their outcome; each outcome is delivered once.
      CREATE TABLE held_calls (
        action_id TEXT PRIMARY KEY NOT NULL REFERENCES actions (id),
        requester_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX held_calls_open ON held_calls (requester_id, fingerprint, created_at) WHERE delivered_at IS NULL;

      -- The first definition seen of each upstream MCP tool, and the latest one seen.
      CREATE TABLE mcp_tool_pins (
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        hash TEXT NOT NULL,
        definition TEXT NOT NULL,
        pinned_at INTEGER NOT NULL,
        seen_hash TEXT NOT NULL,
        seen_definition TEXT NOT NULL,
        PRIMARY KEY (server, tool)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'chat channels and webhooks: deliveries, message references, feed cursor, interactions seen',
    sql: `
      -- How far the notification feed (the audit log) has been turned into deliveries.
      CREATE TABLE notify_cursors (
        feed TEXT PRIMARY KEY NOT NULL,
        seq INTEGER NOT NULL CHECK (seq >= 0)
      ) WITHOUT ROWID;

      -- One row per thing to deliver: a chat sync (render the action's current state in
      -- one channel) or a webhook event (fixed body, same webhook-id on every retry).
      CREATE TABLE channel_deliveries (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('sync', 'event')),
        action_id TEXT NOT NULL,
        event_key TEXT,
        event_type TEXT,
        payload TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_until INTEGER,
        lease_owner TEXT,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX channel_deliveries_event ON channel_deliveries (channel, event_key) WHERE event_key IS NOT NULL;
      CREATE UNIQUE INDEX channel_deliveries_sync ON channel_deliveries (channel, action_id) WHERE kind = 'sync' AND status = 'pending';
      CREATE INDEX channel_deliveries_due ON channel_deliveries (next_attempt_at, id) WHERE status = 'pending';
      CREATE INDEX channel_deliveries_order ON channel_deliveries (channel, action_id, id) WHERE status = 'pending';
      CREATE INDEX channel_deliveries_action ON channel_deliveries (action_id, id);
      CREATE INDEX channel_deliveries_recent ON channel_deliveries (updated_at, id);

      -- Every attempt of every delivery: what was called, and how it went.
      CREATE TABLE channel_attempts (
        id INTEGER PRIMARY KEY,
        delivery_id INTEGER NOT NULL REFERENCES channel_deliveries (id),
        attempt INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        detail TEXT,
        duration_ms INTEGER NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX channel_attempts_delivery ON channel_attempts (delivery_id, id);

      -- The chat messages sent for an action, per channel and target (a channel or a
      -- person), so that every one of them is updated later, by any process.
      CREATE TABLE channel_messages (
        action_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        target TEXT NOT NULL,
        ref TEXT NOT NULL,
        rendered_version INTEGER NOT NULL,
        replied INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (action_id, channel, target)
      ) WITHOUT ROWID;

      -- Interactions already processed (Slack payloads, Teams invokes): a replay changes nothing.
      CREATE TABLE chat_interactions (
        key TEXT PRIMARY KEY NOT NULL,
        seen_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX chat_interactions_seen ON chat_interactions (seen_at);
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
  CONSOLE_MIGRATION,
  {
    version: 6,
    name: 'standing grants, counter hits and first times (issue 17)',
    sql: `
      -- One row per (action, counter) an action counted towards, written with the action
      -- change that made it count (ports/history-store.ts). rowid orders them for readers.
      CREATE TABLE counter_hits (
        action_id TEXT NOT NULL,
        counter TEXT NOT NULL,
        key TEXT NOT NULL,
        weight INTEGER NOT NULL CHECK (weight >= 1),
        at INTEGER NOT NULL,
        UNIQUE (action_id, counter)
      );
      CREATE INDEX counter_hits_at ON counter_hits (at);

      -- The first time each agent acted on each target (history.firstTime).
      CREATE TABLE acted_pairs (
        agent TEXT NOT NULL,
        target TEXT NOT NULL,
        first_at INTEGER NOT NULL,
        UNIQUE (agent, target)
      );
      INSERT OR IGNORE INTO acted_pairs (agent, target, first_at)
        SELECT requester_id, json_extract(record, '$.target'), MIN(created_at) FROM actions
        WHERE status IN ('approved', 'running', 'succeeded', 'failed') GROUP BY 1, 2;

      -- Standing grants: uses and revocation are columns, the rest the Grant as JSON.
      CREATE TABLE grants (
        id TEXT PRIMARY KEY NOT NULL,
        agent TEXT NOT NULL,
        target TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        max_uses INTEGER NOT NULL CHECK (max_uses >= 1),
        uses INTEGER NOT NULL CHECK (uses >= 0 AND uses <= max_uses),
        revoked_at INTEGER,
        record TEXT NOT NULL
      );
      CREATE INDEX grants_pair ON grants (agent, target, created_at);
      CREATE INDEX grants_created ON grants (created_at, id);
    `,
  },
  {
    version: 7,
    name: 'exact counters and ended grants (issue 17)',
    sql: `
      -- Decisions check the weight of one counter key in its window at write time (DecisionChecks).
      CREATE INDEX counter_hits_key ON counter_hits (counter, key, at);
      -- When a grant ended (used up, expired, revoked, its rule changed): its grant.ended entry is written once, with this.
      ALTER TABLE grants ADD COLUMN ended_at INTEGER;
    `,
  },
  {
    version: 8,
    name: 'who lists a grant: its grantors and approvers',
    sql: `
      -- A grant's keys from grantAudienceOf (grant-access.ts): a human's listing reads only
      -- the grants that share a key with them, however many others the store holds.
      CREATE TABLE grant_audience (
        principal TEXT NOT NULL,
        grant_id TEXT NOT NULL REFERENCES grants (id),
        PRIMARY KEY (principal, grant_id)
      ) WITHOUT ROWID;
      -- 1 once a grant's audience rows are written. A process of an earlier release still
      -- running beside a migrated one (a rolling upgrade) writes grants without them: those
      -- stay NULL and every listing considers them (the service applies the rule itself).
      ALTER TABLE grants ADD COLUMN audience_indexed INTEGER;
      CREATE INDEX grants_unindexed ON grants (id) WHERE audience_indexed IS NULL;
    `,
    backfill: backfillGrantAudience,
  },
];

/** Grants written before migration 8, indexed as insertGrant indexes new ones. */
function backfillGrantAudience(db: SqliteDb): void {
  const add = db.prepare('INSERT OR IGNORE INTO grant_audience (principal, grant_id) VALUES (?, ?)');
  // all(), not iterate(): better-sqlite3 runs no other statement while an iterator is open.
  for (const row of db.prepare('SELECT id, record FROM grants').all() as { id: string; record: string }[]) {
    for (const key of grantAudienceOf(JSON.parse(row.record) as Grant)) add.run(key, row.id);
  }
  db.exec('UPDATE grants SET audience_indexed = 1');
}

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
        m.backfill?.(db);
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

/** For read-only use: the database must be at exactly the schema this code knows. */
export function checkReadable(db: SqliteDb): void {
  const found = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() ? currentVersion(db) : 0;
  if (found > LATEST_VERSION) refuseNewer(found, LATEST_VERSION);
  if (found < LATEST_VERSION) {
    throw new AppError('STORAGE_ERROR', `The database has schema version ${found}, older than this Countersign's ${LATEST_VERSION}: start the server on it once to migrate it, or use the matching release.`);
  }
}
