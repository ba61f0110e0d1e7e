import type pg from 'pg';
import { grantAudienceOf } from '../../../domain/grant-access.js';
import type { Grant } from '../../../domain/grant.js';
/** One step of the PostgreSQL schema. Released steps are never edited: add the next one. */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
  /** Rows the SQL alone cannot derive (JavaScript's case rules), written in the step's transaction. */
  backfill?: (c: pg.PoolClient) => Promise<void>;
}

/**
 * The schema, as numbered steps, applied inside the configured schema (search_path).
 * It holds the same tables as the SQLite store's, with the same meaning, so that
 * `countersign store copy` moves rows one to one. Times are BIGINT milliseconds since
 * the epoch (instants, whatever ISO-8601 spelling the caller used), hashes BYTEA.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'actions, audience, audit log and its sequencer',
    sql: `
      CREATE TABLE actions (
        id TEXT COLLATE "C" PRIMARY KEY, -- byte order, as SQLite compares (keyset pages)
        status TEXT NOT NULL,
        mode TEXT NOT NULL,
        requester_id TEXT NOT NULL,
        idempotency_key TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        expires_at BIGINT,
        next_escalation_at BIGINT,
        version INTEGER NOT NULL CHECK (version >= 1),
        record TEXT NOT NULL         -- the full ActionRecord as JSON, byte for byte
      );
      CREATE UNIQUE INDEX actions_idempotency ON actions (requester_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX actions_created ON actions (created_at, id);
      CREATE INDEX actions_status ON actions (status, created_at, id);
      CREATE INDEX actions_requester ON actions (requester_id, created_at, id);
      CREATE INDEX actions_to_run ON actions (created_at, id) WHERE status = 'approved' AND mode = 'execute';
      CREATE INDEX actions_expiry ON actions (expires_at, id) WHERE expires_at IS NOT NULL;
      CREATE INDEX actions_escalation ON actions (next_escalation_at, id) WHERE next_escalation_at IS NOT NULL;

      CREATE TABLE action_audience (
        principal TEXT NOT NULL,
        action_id TEXT NOT NULL REFERENCES actions (id),
        PRIMARY KEY (principal, action_id)
      );
      CREATE INDEX action_audience_action ON action_audience (action_id);

      -- The sequencer: one row, locked (SELECT ... FOR UPDATE) by every transaction that
      -- appends entries, so that sequence numbers are contiguous and the tree is one,
      -- whichever replica writes. It also holds the log's size.
      CREATE TABLE audit_head (
        id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
        next_seq BIGINT NOT NULL CHECK (next_seq >= 0)
      );
      INSERT INTO audit_head (id, next_seq) VALUES (TRUE, 0);

      CREATE TABLE audit_entries (
        seq BIGINT PRIMARY KEY CHECK (seq >= 0),
        ts TEXT NOT NULL,
        type TEXT NOT NULL,
        action_id TEXT,
        bytes BYTEA NOT NULL,
        leaf_hash BYTEA NOT NULL CHECK (length(leaf_hash) = 32)
      );
      CREATE INDEX audit_entries_action ON audit_entries (action_id, seq) WHERE action_id IS NOT NULL;

      -- Perfect subtrees of 16 leaves or more, by in-order position (the SQLite layout).
      CREATE TABLE audit_tree_nodes (
        id BIGINT PRIMARY KEY CHECK (id >= 0),
        hash BYTEA NOT NULL CHECK (length(hash) = 32)
      );

      CREATE TABLE audit_checkpoints (
        size BIGINT PRIMARY KEY CHECK (size >= 0),
        root BYTEA NOT NULL CHECK (length(root) = 32),
        note TEXT NOT NULL,
        signed_at TEXT NOT NULL
      );

      CREATE TABLE audit_cosignatures (
        size BIGINT NOT NULL REFERENCES audit_checkpoints (size),
        witness TEXT NOT NULL,
        line TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (size, witness)
      );

      CREATE TABLE audit_cursors (
        name TEXT PRIMARY KEY,
        position BIGINT NOT NULL CHECK (position >= 0),
        lease_owner TEXT,
        lease_until BIGINT,
        updated_at TEXT NOT NULL
      );

      -- The log, its tree and its checkpoints are append-only at the database level too.
      CREATE FUNCTION countersign_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
      CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION countersign_append_only();
      CREATE TRIGGER audit_tree_nodes_append_only BEFORE UPDATE OR DELETE ON audit_tree_nodes
        FOR EACH ROW EXECUTE FUNCTION countersign_append_only();
      CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
        FOR EACH ROW EXECUTE FUNCTION countersign_append_only();
      CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
        FOR EACH STATEMENT EXECUTE FUNCTION countersign_append_only();
    `,
  },
  {
    version: 2,
    name: 'held calls and MCP tool pins',
    sql: `
      CREATE TABLE held_calls (
        action_id TEXT PRIMARY KEY REFERENCES actions (id),
        requester_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        delivered_at BIGINT
      );
      CREATE INDEX held_calls_open ON held_calls (requester_id, fingerprint, created_at) WHERE delivered_at IS NULL;

      CREATE TABLE mcp_tool_pins (
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        hash TEXT NOT NULL,
        definition TEXT NOT NULL,
        pinned_at BIGINT NOT NULL,
        seen_hash TEXT NOT NULL,
        seen_definition TEXT NOT NULL,
        PRIMARY KEY (server, tool)
      );
    `,
  },
  {
    version: 3,
    name: 'chat channels and webhooks: deliveries, message references, feed cursor, interactions seen',
    sql: `
      CREATE TABLE notify_cursors (
        feed TEXT PRIMARY KEY,
        seq BIGINT NOT NULL CHECK (seq >= 0)
      );

      CREATE TABLE channel_deliveries (
        id BIGSERIAL PRIMARY KEY,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('sync', 'event')),
        action_id TEXT NOT NULL,
        event_key TEXT,
        event_type TEXT,
        payload TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        lease_until BIGINT,
        lease_owner TEXT,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE UNIQUE INDEX channel_deliveries_event ON channel_deliveries (channel, event_key) WHERE event_key IS NOT NULL;
      CREATE UNIQUE INDEX channel_deliveries_sync ON channel_deliveries (channel, action_id) WHERE kind = 'sync' AND status = 'pending';
      CREATE INDEX channel_deliveries_due ON channel_deliveries (next_attempt_at, id) WHERE status = 'pending';
      CREATE INDEX channel_deliveries_order ON channel_deliveries (channel, action_id, id) WHERE status = 'pending';
      CREATE INDEX channel_deliveries_action ON channel_deliveries (action_id, id);
      CREATE INDEX channel_deliveries_recent ON channel_deliveries (updated_at, id);

      CREATE TABLE channel_attempts (
        id BIGSERIAL PRIMARY KEY,
        delivery_id BIGINT NOT NULL REFERENCES channel_deliveries (id),
        attempt INTEGER NOT NULL,
        ok BOOLEAN NOT NULL,
        detail TEXT,
        duration_ms INTEGER NOT NULL,
        at BIGINT NOT NULL
      );
      CREATE INDEX channel_attempts_delivery ON channel_attempts (delivery_id, id);

      CREATE TABLE channel_messages (
        action_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        target TEXT NOT NULL,
        ref TEXT NOT NULL,
        rendered_version INTEGER NOT NULL,
        replied INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (action_id, channel, target)
      );

      CREATE TABLE chat_interactions (
        key TEXT PRIMARY KEY,
        seen_at BIGINT NOT NULL
      );
      CREATE INDEX chat_interactions_seen ON chat_interactions (seen_at);
    `,
  },
  {
    version: 4,
    name: 'console sessions, chat links, standing grants, counter hits and first times',
    sql: `
      -- Console sign-ins (the SQLite store's migration 5). Only the token's SHA-256 is kept.
      CREATE TABLE console_sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        human TEXT NOT NULL,
        known INTEGER NOT NULL CHECK (known IN (0, 1)),
        groups TEXT NOT NULL,          -- JSON array
        created_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        ended_at BIGINT,
        end_reason TEXT
      );
      CREATE INDEX console_sessions_created ON console_sessions (created_at, id);
      CREATE INDEX console_sessions_human ON console_sessions (human, created_at);

      -- One-time chat linking codes (hash only) and the bindings they made.
      CREATE TABLE chat_link_offers (
        code_hash TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        chat_user_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
      );
      CREATE TABLE chat_links (
        channel TEXT NOT NULL,
        chat_user_id TEXT NOT NULL,
        human TEXT NOT NULL,
        linked_at BIGINT NOT NULL,
        PRIMARY KEY (channel, chat_user_id)
      );

      -- Counter hits and first times (the SQLite store's migration 6), written with the
      -- action change that made them (ports/history-store.ts). n orders them for
      -- readers: every insert holds the sequencer (audit_head), so ids grow in commit order.
      CREATE TABLE counter_hits (
        n BIGSERIAL PRIMARY KEY,
        action_id TEXT NOT NULL,
        counter TEXT NOT NULL,
        key TEXT NOT NULL,
        weight INTEGER NOT NULL CHECK (weight >= 1),
        at BIGINT NOT NULL,
        UNIQUE (action_id, counter)
      );
      CREATE INDEX counter_hits_at ON counter_hits (at);

      CREATE TABLE acted_pairs (
        n BIGSERIAL PRIMARY KEY,
        agent TEXT NOT NULL,
        target TEXT NOT NULL,
        first_at BIGINT NOT NULL,
        UNIQUE (agent, target)
      );
      INSERT INTO acted_pairs (agent, target, first_at)
        SELECT requester_id, (record::jsonb)->>'target', MIN(created_at) FROM actions
        WHERE status IN ('approved', 'running', 'succeeded', 'failed') GROUP BY 1, 2 ORDER BY 3, 1, 2;

      -- Standing grants: uses and revocation are columns, the rest the Grant as JSON.
      CREATE TABLE grants (
        id TEXT COLLATE "C" PRIMARY KEY,
        agent TEXT NOT NULL,
        target TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        max_uses INTEGER NOT NULL CHECK (max_uses >= 1),
        uses INTEGER NOT NULL CHECK (uses >= 0 AND uses <= max_uses),
        revoked_at BIGINT,
        record TEXT NOT NULL
      );
      CREATE INDEX grants_pair ON grants (agent, target, created_at);
      CREATE INDEX grants_created ON grants (created_at, id);
    `,
  },
  {
    version: 5,
    name: 'runner queue: jobs handed to runners, their sessions (issue 18, several replicas)',
    sql: `
      -- Passing state, not history (the audit log holds that): not copied by store copy.
      -- A job is claimed by one runner session with FOR UPDATE SKIP LOCKED; the replica
      -- that queued it reads its outcome (ports/runner-queue.ts).
      CREATE TABLE runner_jobs (
        job_id TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        runners TEXT[] NOT NULL,
        job TEXT NOT NULL,             -- the Job as JSON
        state TEXT NOT NULL CHECK (state IN ('queued', 'claimed', 'done', 'lost', 'withdrawn')),
        claim_by BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        claimed_instance TEXT,
        claimed_at BIGINT,
        result TEXT,                   -- the JobResult as JSON
        lost_runner TEXT,
        lost_host TEXT,
        ended_at BIGINT
      );
      CREATE INDEX runner_jobs_queued ON runner_jobs (created_at) WHERE state = 'queued';
      CREATE INDEX runner_jobs_claimed ON runner_jobs (claimed_instance) WHERE state = 'claimed';
      CREATE INDEX runner_jobs_ended ON runner_jobs (ended_at) WHERE ended_at IS NOT NULL;

      CREATE TABLE runner_sessions (
        instance TEXT PRIMARY KEY,
        runner TEXT NOT NULL,
        host TEXT NOT NULL,
        targets TEXT NOT NULL,         -- JSON array
        connected_at BIGINT NOT NULL,
        last_seen BIGINT NOT NULL
      );
      CREATE TABLE runner_seen (
        runner TEXT PRIMARY KEY,
        last_seen BIGINT NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'exact counters and ended grants (issue 17)',
    sql: `
      -- Decisions check the weight of one counter key in its window at write time (DecisionChecks).
      CREATE INDEX counter_hits_key ON counter_hits (counter, key, at);
      -- When a grant ended (used up, expired, revoked, its rule changed): its grant.ended entry is written once, with this.
      ALTER TABLE grants ADD COLUMN ended_at BIGINT;
    `,
  },
  {
    version: 7,
    name: 'who lists a grant: its grantors and approvers',
    sql: `
      -- A grant's keys from grantAudienceOf (grant-access.ts): a human's listing reads only
      -- the grants that share a key with them, however many others the store holds.
      CREATE TABLE grant_audience (
        principal TEXT COLLATE "C" NOT NULL,
        grant_id TEXT COLLATE "C" NOT NULL REFERENCES grants (id),
        PRIMARY KEY (principal, grant_id)
      );
      -- 1 once a grant's audience rows are written. A replica of an earlier release still
      -- running beside a migrated one (a rolling upgrade) writes grants without them: those
      -- stay NULL and every listing considers them (the service applies the rule itself).
      ALTER TABLE grants ADD COLUMN audience_indexed SMALLINT;
      CREATE INDEX grants_unindexed ON grants (id) WHERE audience_indexed IS NULL;
    `,
    backfill: backfillGrantAudience,
  },
];

/** Grants written before migration 7, indexed as insertGrant indexes new ones. */
async function backfillGrantAudience(c: pg.PoolClient): Promise<void> {
  const rows = (await c.query<{ id: string; record: string }>('SELECT id, record FROM grants')).rows;
  const ids: string[] = [];
  const keys: string[] = [];
  for (const row of rows) {
    for (const key of grantAudienceOf(JSON.parse(row.record) as Grant)) {
      ids.push(row.id);
      keys.push(key);
    }
  }
  await c.query('INSERT INTO grant_audience (principal, grant_id) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING', [keys, ids]);
  await c.query('UPDATE grants SET audience_indexed = 1');
}

export const PG_LATEST_VERSION = PG_MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
