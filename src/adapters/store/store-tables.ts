/**
 * The tables both stores hold, with the same names and columns, in an order that
 * satisfies their foreign keys: what `countersign store copy` moves, one to one, and
 * what an audit snapshot of PostgreSQL copies into SQLite. `key` orders a table's rows.
 */
export interface StoreTable {
  name: string;
  columns: readonly string[];
  key: string;
  /** Columns SQLite keeps as 0/1 and PostgreSQL as BOOLEAN. */
  booleans?: readonly string[];
  /** PostgreSQL's BIGSERIAL sequence to move past the copied ids. */
  serial?: string;
}

export const STORE_TABLES: readonly StoreTable[] = [
  { name: 'actions', key: 'id', columns: ['id', 'status', 'mode', 'requester_id', 'idempotency_key', 'created_at', 'updated_at', 'expires_at', 'next_escalation_at', 'version', 'record'] },
  { name: 'action_audience', key: 'action_id, principal', columns: ['principal', 'action_id'] },
  { name: 'audit_entries', key: 'seq', columns: ['seq', 'ts', 'type', 'action_id', 'bytes', 'leaf_hash'] },
  { name: 'audit_tree_nodes', key: 'id', columns: ['id', 'hash'] },
  { name: 'audit_checkpoints', key: 'size', columns: ['size', 'root', 'note', 'signed_at'] },
  { name: 'audit_cosignatures', key: 'size, witness', columns: ['size', 'witness', 'line', 'received_at'] },
  { name: 'audit_cursors', key: 'name', columns: ['name', 'position', 'lease_owner', 'lease_until', 'updated_at'] },
  { name: 'held_calls', key: 'action_id', columns: ['action_id', 'requester_id', 'fingerprint', 'created_at', 'delivered_at'] },
  { name: 'mcp_tool_pins', key: 'server, tool', columns: ['server', 'tool', 'hash', 'definition', 'pinned_at', 'seen_hash', 'seen_definition'] },
  { name: 'notify_cursors', key: 'feed', columns: ['feed', 'seq'] },
  {
    name: 'channel_deliveries',
    key: 'id',
    serial: 'id',
    columns: ['id', 'channel', 'kind', 'action_id', 'event_key', 'event_type', 'payload', 'status', 'attempts', 'next_attempt_at', 'lease_until', 'lease_owner', 'last_error', 'created_at', 'updated_at'],
  },
  { name: 'channel_attempts', key: 'id', serial: 'id', booleans: ['ok'], columns: ['id', 'delivery_id', 'attempt', 'ok', 'detail', 'duration_ms', 'at'] },
  { name: 'channel_messages', key: 'action_id, channel, target', columns: ['action_id', 'channel', 'target', 'ref', 'rendered_version', 'replied'] },
  { name: 'chat_interactions', key: 'key', columns: ['key', 'seen_at'] },
  {
    name: 'console_sessions',
    key: 'id',
    columns: ['id', 'token_hash', 'human', 'known', 'groups', 'created_at', 'last_seen_at', 'expires_at', 'ended_at', 'end_reason'],
  },
  { name: 'chat_link_offers', key: 'code_hash', columns: ['code_hash', 'channel', 'chat_user_id', 'created_at', 'expires_at', 'used_at'] },
  { name: 'chat_links', key: 'channel, chat_user_id', columns: ['channel', 'chat_user_id', 'human', 'linked_at'] },
  // Hits and first times are read by cursor (SQLite's rowid, PostgreSQL's n): the copy
  // renumbers them in time order (the order counters read them in), not by their old cursor.
  { name: 'counter_hits', key: 'at, action_id, counter', columns: ['action_id', 'counter', 'key', 'weight', 'at'] },
  { name: 'acted_pairs', key: 'first_at, agent, target', columns: ['agent', 'target', 'first_at'] },
  { name: 'grants', key: 'id', columns: ['id', 'agent', 'target', 'created_at', 'expires_at', 'max_uses', 'uses', 'revoked_at', 'ended_at', 'audience_indexed', 'record'] },
  { name: 'grant_audience', key: 'grant_id, principal', columns: ['principal', 'grant_id'] },
];

/** The audit log's own tables: enough for `audit verify` and `audit export`. */
export const AUDIT_TABLES: readonly string[] = ['audit_entries', 'audit_tree_nodes', 'audit_checkpoints', 'audit_cosignatures', 'audit_cursors'];
