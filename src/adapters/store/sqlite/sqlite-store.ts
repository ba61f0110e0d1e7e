import type { ActionRecord } from '../../../domain/action-record.js';
import { AppError } from '../../../domain/errors.js';
import type { InsertResult, Store } from '../../../ports/store.js';
import { instantOf, limitOf, storageError } from '../store-error.js';
import { createActionsTable } from './sqlite-actions.js';
import { createAuditTable } from './sqlite-audit.js';
import { openSqlite } from './sqlite-db.js';
import { createActionLister } from './sqlite-list.js';
import { migrate } from './sqlite-migrations.js';
import { createWriter } from './sqlite-writer.js';

export interface SqliteStoreOptions {
  /** The database file, created if missing. */
  path: string;
  /** How long a write waits for another process holding the write lock. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * Most writes per transaction (group commit). Default 128: a batch blocks the event
   * loop while it runs (about 0.1 ms per write), so this bounds that pause to ~15 ms,
   * while the fsync is already shared widely. 1 means one transaction per write.
   */
  maxBatch?: number;
}

/** Reads run synchronously on the connection, so a failure there is wrapped like a write's. */
function read<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(storageError(e));
  }
}

function checkInsert(a: ActionRecord): void {
  if (a.version !== 1) throw new AppError('INTERNAL', `a new action has version 1, not ${a.version}`);
}

function checkUpdate(next: ActionRecord, expectedVersion: number): void {
  if (!Number.isSafeInteger(expectedVersion) || next.version !== expectedVersion + 1) {
    throw new AppError('INTERNAL', `an update from version ${expectedVersion} writes version ${expectedVersion + 1}, not ${next.version}`);
  }
}

/**
 * The SQLite store (better-sqlite3, WAL, synchronous=FULL). Opening applies the
 * migrations and fails on a database from a newer release. Writes go through the
 * group-commit writer (sqlite-writer.ts); reads go straight to the connection.
 */
export function createSqliteStore(opts: SqliteStoreOptions): Store {
  const config = Object.freeze({ path: opts.path, busyTimeoutMs: opts.busyTimeoutMs ?? 5000, maxBatch: opts.maxBatch ?? 128 });
  const db = (() => {
    try {
      return openSqlite(config.path, config.busyTimeoutMs);
    } catch (e) {
      throw storageError(e, `Cannot open the SQLite database ${config.path}`);
    }
  })();
  const { actions, audit, list, writer } = (() => {
    try {
      migrate(db);
      return { actions: createActionsTable(db), audit: createAuditTable(db), list: createActionLister(db), writer: createWriter(db, config.maxBatch) };
    } catch (e) {
      db.close();
      throw storageError(e, `Cannot prepare the SQLite database ${config.path}`);
    }
  })();
  let closing: Promise<void> | undefined;

  return {
    insertAction(action, drafts) {
      return writer.submit((): InsertResult => {
        checkInsert(action);
        if (action.idempotencyKey !== undefined) {
          // Checked inside the transaction: a repeat in the same batch sees the first insert.
          const existing = actions.byIdempotencyKey(action.requester.id, action.idempotencyKey);
          if (existing) return { inserted: false, existing };
        }
        actions.insert(action);
        audit.appendEntries(drafts);
        return { inserted: true, action };
      });
    },
    updateAction(next, expectedVersion, drafts) {
      return writer.submit(() => {
        checkUpdate(next, expectedVersion);
        if (!actions.update(next, expectedVersion)) return false;
        audit.appendEntries(drafts);
        return true;
      });
    },
    appendAudit(drafts) {
      return writer.submit(() => audit.appendEntries(drafts));
    },
    getAction: (id) => read(() => actions.get(id)),
    getByIdempotencyKey: (requesterId, key) => read(() => actions.byIdempotencyKey(requesterId, key)),
    listActions: (q) => read(() => list(q)),
    dueForExpiry: (now, limit) => read(() => actions.dueForExpiry(instantOf(now, 'now'), limitOf(limit))),
    dueForEscalation: (now, limit) => read(() => actions.dueForEscalation(instantOf(now, 'now'), limitOf(limit))),
    withStatus: (status, limit) => read(() => actions.withStatus(status, limitOf(limit))),
    awaitingExecution: (limit) => read(() => actions.awaitingExecution(limitOf(limit))),
    readAudit: (start, end) =>
      read(() => {
        const from = Number.isFinite(start) ? Math.max(0, Math.floor(start)) : 0;
        const to = end === Infinity ? Number.MAX_SAFE_INTEGER : Number.isFinite(end) ? Math.floor(end) : 0;
        return from < to ? audit.read(from, to) : [];
      }),
    auditSeqsFor: (actionId) => read(() => audit.seqsFor(actionId)),
    auditSize: () => read(() => audit.size()),
    close() {
      closing ??= writer.drain().then(() => {
        db.close();
      });
      return closing;
    },
  };
}
