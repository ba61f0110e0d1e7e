import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChannelStore } from '../../../ports/channel-store.js';
import type { Store } from '../../../ports/store.js';
import { instantOf, limitOf, storageError } from '../store-error.js';
import { createActionsTable } from './sqlite-actions.js';
import { createAuditTable } from './sqlite-audit.js';
import { createChannelTables } from './sqlite-channels.js';
import { openSqlite } from './sqlite-db.js';
import { createActionLister } from './sqlite-list.js';
import { migrate } from './sqlite-migrations.js';
import { createWorkerWriter } from './sqlite-worker-writer.js';
import { createWriteOps } from './sqlite-write-ops.js';
import { createInlineWriter } from './sqlite-writer.js';

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
  /**
   * Where writes run: `worker` (default when built: a writer thread, so the event loop
   * never waits on SQLite) or `inline` (on this thread's connection).
   */
  writer?: 'worker' | 'inline';
}

/** Reads run synchronously on the connection, so a failure there is wrapped like a write's. */
function read<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(storageError(e));
  }
}

const WORKER_URL = new URL('./sqlite-writer-worker.js', import.meta.url);

/** The writer thread runs compiled code; from TypeScript sources (tests) the writer runs inline. */
function workerAvailable(): boolean {
  return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));
}

/**
 * The SQLite store (better-sqlite3, WAL, synchronous=FULL). Opening applies the
 * migrations and fails on a database from a newer release. Writes go through the
 * group-commit writer (sqlite-writer.ts); reads go straight to the connection.
 */
export interface SqliteStore extends Store {
  /** Chat channels' and webhooks' state, in the same database and writer. */
  channels: ChannelStore;
}

export function createSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  const config = Object.freeze({ path: opts.path, busyTimeoutMs: opts.busyTimeoutMs ?? 5000, maxBatch: opts.maxBatch ?? 128 });
  const db = (() => {
    try {
      return openSqlite(config.path, config.busyTimeoutMs);
    } catch (e) {
      throw storageError(e, `Cannot open the SQLite database ${config.path}`);
    }
  })();
  const { actions, audit, channels, list, writer } = (() => {
    try {
      migrate(db);
      const actions = createActionsTable(db);
      const audit = createAuditTable(db);
      const channels = createChannelTables(db);
      const useWorker = (opts.writer ?? (workerAvailable() ? 'worker' : 'inline')) === 'worker';
      const writer = useWorker
        ? createWorkerWriter(WORKER_URL, { path: config.path, busyTimeoutMs: config.busyTimeoutMs, maxBatch: config.maxBatch })
        : createInlineWriter(db, createWriteOps({ actions, audit, channels }), config.maxBatch);
      return { actions, audit, channels, list: createActionLister(db), writer };
    } catch (e) {
      db.close();
      throw storageError(e, `Cannot prepare the SQLite database ${config.path}`);
    }
  })();
  let closing: Promise<void> | undefined;

  return {
    insertAction: async (action, drafts) => {
      const r = await writer.submit('insertAction', { action, drafts });
      return r.inserted ? { inserted: true, action } : r;
    },
    updateAction: (next, expectedVersion, drafts) => writer.submit('updateAction', { next, expectedVersion, drafts }),
    appendAudit: (drafts) => writer.submit('appendAudit', { drafts }),
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
    channels: {
      feedPosition: (feed) => read(() => channels.feedPosition(feed)),
      startFeed: (feed, seq) => writer.submit('startFeed', { feed, seq }),
      cycle: (round) => writer.submit('cycleDeliveries', round),
      messages: (actionId, channel) => read(() => channels.messages(actionId, channel)),
      listDeliveries: (q) => read(() => channels.list(q)),
      attempts: (deliveryId) => read(() => channels.attempts(deliveryId)),
      prune: (before, limit) => writer.submit('pruneDeliveries', { before, limit }),
      rememberInteraction: (key, now, forgetBefore) => writer.submit('rememberInteraction', { key, now, forgetBefore }),
    },
    close() {
      closing ??= writer.drain().then(() => {
        db.close();
      });
      return closing;
    },
  };
}
