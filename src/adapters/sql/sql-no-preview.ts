import type { ParsedStatement } from './pg-parse.js';
import { funcName, walk } from './pg-parse.js';

/**
 * Statements that get no preview, with the reason shown to reviewers: running them in a
 * transaction that is rolled back would either fail (they cannot run in a transaction)
 * or leave an effect the rollback does not undo. Never a partial run: one such statement
 * skips the preview of the whole input.
 */

/** Functions whose effect outlives a rollback (or reaches outside the database). */
const NON_TRANSACTIONAL_FUNCTIONS = new Map<string, string>([
  ['nextval', 'advances a sequence, which a rollback does not undo'],
  ['setval', 'sets a sequence, which a rollback does not undo'],
  ['pg_notify', 'sends a notification to listeners'],
  ['pg_advisory_lock', 'takes a session lock that outlives the transaction'],
  ['pg_advisory_lock_shared', 'takes a session lock that outlives the transaction'],
  ['pg_try_advisory_lock', 'takes a session lock that outlives the transaction'],
  ['pg_try_advisory_lock_shared', 'takes a session lock that outlives the transaction'],
  ['lo_import', 'reads a file on the database server'],
  ['lo_export', 'writes a file on the database server'],
  ['pg_file_write', 'writes a file on the database server'],
  ['pg_file_unlink', 'deletes a file on the database server'],
  ['pg_file_rename', 'renames a file on the database server'],
  ['pg_terminate_backend', 'ends another session'],
  ['pg_cancel_backend', 'cancels another session\'s query'],
  ['pg_reload_conf', 'reloads the server configuration'],
  ['pg_rotate_logfile', 'rotates the server log'],
  ['pg_switch_wal', 'switches the write-ahead log file'],
  ['pg_create_physical_replication_slot', 'creates a replication slot'],
  ['pg_create_logical_replication_slot', 'creates a replication slot'],
  ['pg_drop_replication_slot', 'drops a replication slot'],
  ['pg_logical_emit_message', 'writes a message to the write-ahead log'],
  ['pg_backup_start', 'starts a backup'],
  ['pg_backup_stop', 'stops a backup'],
  ['pg_promote', 'promotes a standby'],
  ['pg_stat_reset', 'resets statistics'],
]);

/**
 * Functions of pg_catalog that PostgreSQL marks VOLATILE but that leave nothing behind once
 * the preview's transaction ends: they read clocks, counters, sizes or random numbers, or
 * lock for the transaction only. Every other volatile pg_catalog function a statement calls
 * skips the preview (postgres-reach.ts: called in the input or reached through a view, a
 * policy, a default...), whether or not it is named above: an allow-list,
 * so that one we did not think of (query_to_xml and ts_stat run SQL given as text,
 * pg_read_file reads the server's files, setseed and set_config change the session, a
 * newer release adds more) fails closed. A skipped preview still goes to review.
 */
export const VOLATILE_BUT_UNDONE: ReadonlySet<string> = new Set([
  'random', 'random_normal', 'clock_timestamp', 'timeofday', 'gen_random_uuid', 'uuidv4', 'uuidv7',
  'currval', 'lastval', 'pg_sequence_last_value', 'txid_status', 'pg_xact_status', 'pg_xact_commit_timestamp', 'pg_last_committed_xact',
  'pg_sleep', 'pg_sleep_for', 'pg_sleep_until',
  'pg_advisory_xact_lock', 'pg_advisory_xact_lock_shared', 'pg_try_advisory_xact_lock', 'pg_try_advisory_xact_lock_shared',
  'pg_database_size', 'pg_relation_size', 'pg_table_size', 'pg_indexes_size', 'pg_total_relation_size', 'pg_tablespace_size',
  'pg_is_in_recovery', 'pg_jit_available', 'pg_blocking_pids', 'pg_safe_snapshot_blocking_pids', 'pg_lock_status',
  'pg_current_wal_lsn', 'pg_current_wal_insert_lsn', 'pg_current_wal_flush_lsn', 'pg_last_wal_receive_lsn', 'pg_last_wal_replay_lsn',
  'pg_last_xact_replay_timestamp', 'pg_partition_tree', 'pg_partition_ancestors', 'pg_notification_queue_usage',
  // Built-in trigger functions: they change or drop the row being written, inside the transaction.
  'tsvector_update_trigger', 'tsvector_update_trigger_column', 'suppress_redundant_updates_trigger',
]);

/** Words in a function or DO body that mean it may act outside the transaction. */
export const RISKY_BODY = /\b(nextval|setval|dblink\w*|pg_notify|notify|listen|pg_advisory_(?:lock|unlock)\w*|pg_try_advisory_lock\w*|lo_import|lo_export|pg_file_\w+|copy|execute|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_logical_emit_message|commit|rollback)\b/i;

/** Why a function call may not be previewed, or null. */
export function riskyFunction(name: string): string | null {
  const n = name.toLowerCase();
  if (n.startsWith('dblink')) return `${n}() reaches another database, outside the transaction`;
  if (n.startsWith('pg_stat_reset')) return `${n}() resets statistics, which a rollback does not undo`;
  if (/^pg_(try_)?advisory_/.test(n) && !/_xact_/.test(n)) return `${n}() takes or releases a session lock, which outlives the transaction`;
  if (n.startsWith('lo_')) return `${n}() acts on large objects or files on the database server`;
  // STABLE, but they read every row of relations named as text or regclass: the views among them run code no check follows.
  if (/^(table|schema|database)_to_xml/.test(n)) return `${n}() reads relations named in its arguments, whose views and policies the gateway does not follow`;
  if (/^pg_(logical_slot_|replication_slot_|copy_\w*_replication_slot|replication_origin_)/.test(n)) return `${n}() acts on replication, outside the transaction`;
  if (/^pg_wal_replay_|^pg_create_restore_point$|^pg_log_backend_memory_contexts$/.test(n)) return `${n}() acts on the server, outside the transaction`;
  const why = NON_TRANSACTIONAL_FUNCTIONS.get(n);
  return why ? `${n}() ${why}` : null;
}

function statementReason(s: ParsedStatement): string | null {
  const n = s.node;
  switch (s.nodeType) {
    case 'TransactionStmt':
      return 'transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) would end the preview\'s transaction; the gateway runs the whole input in one transaction';
    case 'IndexStmt':
      return n.concurrent ? 'CREATE INDEX CONCURRENTLY cannot run inside a transaction' : null;
    case 'ReindexStmt': {
      const params = (n.params as Array<{ DefElem?: { defname?: string } }> | undefined) ?? [];
      return params.some((p) => p.DefElem?.defname === 'concurrently') ? 'REINDEX CONCURRENTLY cannot run inside a transaction' : null;
    }
    case 'DropStmt':
      return n.concurrent ? 'DROP INDEX CONCURRENTLY cannot run inside a transaction' : null;
    case 'VacuumStmt':
      return n.is_vacuumcmd ? 'VACUUM cannot run inside a transaction' : 'ANALYZE updates table statistics in place, which a rollback does not undo';
    case 'CreatedbStmt':
      return 'CREATE DATABASE cannot run inside a transaction';
    case 'DropdbStmt':
      return 'DROP DATABASE cannot run inside a transaction';
    case 'AlterDatabaseStmt':
    case 'AlterDatabaseSetStmt':
    case 'AlterDatabaseRefreshCollStmt':
      return 'ALTER DATABASE changes the database itself; it is not previewed';
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
      return 'tablespaces are created and dropped outside transactions (files on the server)';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM writes the server configuration file, outside any transaction';
    case 'CreateSubscriptionStmt':
    case 'AlterSubscriptionStmt':
    case 'DropSubscriptionStmt':
      return 'subscriptions connect to another server and manage replication slots there';
    case 'LoadStmt':
      return 'LOAD loads a shared library into the server process';
    case 'CheckPointStmt':
      return 'CHECKPOINT is a server-wide operation';
    case 'ListenStmt':
    case 'UnlistenStmt':
      return 'LISTEN/UNLISTEN change the session, not the data';
    case 'NotifyStmt':
      return 'NOTIFY sends a notification to listeners';
    case 'DiscardStmt':
      return 'DISCARD resets the session';
    case 'ClusterStmt':
      return n.relation ? null : 'CLUSTER without a table cannot run inside a transaction';
    case 'CopyStmt':
      if (n.is_program) return `COPY ... ${n.is_from ? 'FROM' : 'TO'} PROGRAM runs a program on the database server`;
      if (n.filename) return `COPY ... ${n.is_from ? 'FROM' : 'TO'} a file reads or writes a file on the database server`;
      return `COPY ... ${n.is_from ? 'FROM STDIN' : 'TO STDOUT'} streams data through the connection; it is not previewed`;
    case 'DoStmt':
      // Its body is code run once, in any language, with dynamic SQL: not something a check can judge reliably.
      return 'a DO block runs code the gateway does not check (it may advance a sequence, take a session lock or run dynamic SQL); it is not previewed';
    case 'PrepareStmt':
    case 'ExecuteStmt':
    case 'DeallocateStmt':
      return 'PREPARE, EXECUTE and DEALLOCATE act on session state the preview would leave behind or read from another session; not previewed';
    case 'AlterTableStmt': {
      for (const [t, c] of walk(n)) if (t === 'PartitionCmd' && c.concurrent) return 'DETACH PARTITION CONCURRENTLY cannot run inside a transaction';
      return null;
    }
    default:
      return null;
  }
}

/** The first reason the input cannot be previewed by running it (null: it can be). */
export function noPreviewReason(statements: readonly ParsedStatement[]): string | null {
  for (const s of statements) {
    // Also nested: EXPLAIN ANALYZE EXECUTE, a DO inside nothing else but checked all the same.
    let own = statementReason(s);
    for (const [t, node] of walk(s.node)) if (!own && ['ExecuteStmt', 'PrepareStmt', 'DeallocateStmt', 'DoStmt'].includes(t)) own = statementReason({ ...s, nodeType: t, node });
    if (own) return statements.length > 1 ? `statement ${s.index + 1}: ${own}` : own;
    for (const [t, node] of walk(s.node)) {
      if (t !== 'FuncCall') continue;
      const name = funcName(node).at(-1) ?? '';
      const why = riskyFunction(name);
      if (why) return statements.length > 1 ? `statement ${s.index + 1}: ${why}` : why;
    }
  }
  return null;
}
