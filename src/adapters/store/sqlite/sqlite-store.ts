import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AuditLog } from '../../../ports/audit-log.js';
import type { HeldCallStore } from '../../../ports/held-calls.js';
import type { ChannelStore } from '../../../ports/channel-store.js';
import type { ChatLinkStore, ConsoleSessionStore } from '../../../ports/console-sessions.js';
import type { Store } from '../../../ports/store.js';
import type { ToolPinStore } from '../../../ports/tool-pins.js';
import { instantOf, limitOf, storageError } from '../store-error.js';
import { createActionsTable } from './sqlite-actions.js';
import { createAgentTables } from './sqlite-agent-tables.js';
import { createAuditTable } from './sqlite-audit.js';
import { createAuditLogReads, createAuditLogTable } from './sqlite-audit-log.js';
import { createChannelTables } from './sqlite-channels.js';
import { createConsoleTables } from './sqlite-console-tables.js';
import { openSqlite, openSqliteReadOnly } from './sqlite-db.js';
import { createActionLister } from './sqlite-list.js';
import { packAction } from './sqlite-packed-action.js';
import { checkReadable, migrate } from './sqlite-migrations.js';
import { createWorkerWriter } from './sqlite-worker-writer.js';
import { createWriteOps } from './sqlite-write-ops.js';
import { createInlineWriter, readOnlyWriter } from './sqlite-writer.js';
import { catchUpTree } from './sqlite-tree.js';
import type { GrantStore } from '../../../ports/grant-store.js';
import type { DecidedActionStore, HistoryStore } from '../../../ports/history-store.js';
import { createHistoryTables } from './sqlite-history.js';
import { historyMethods } from './sqlite-history-store.js';

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
  writer?: 'worker' | 'inline' | 'none';
  /**
   * Open an existing database for reading only (offline tools: `audit tail`, verifiers):
   * no migration, no writer, nothing created; every write is refused.
   */
  readOnly?: boolean;
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
/** The SQLite store: actions and the verifiable audit log, held calls and tool pins, chat channels' state. */
export type SqliteStore = Store &
  AuditLog &
  HeldCallStore &
  ToolPinStore &
  HistoryStore &
  DecidedActionStore &
  GrantStore & {
    /** Chat channels' and webhooks' state, in the same database and writer. */
    channels: ChannelStore;
    /** The web console's sessions and chat links, in the same database and writer. */
    console: ConsoleSessionStore & ChatLinkStore;
  };

export function createSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  const config = Object.freeze({ path: opts.path, busyTimeoutMs: opts.busyTimeoutMs ?? 5000, maxBatch: opts.maxBatch ?? 128 });
  const db = (() => {
    try {
      return opts.readOnly ? openSqliteReadOnly(config.path) : openSqlite(config.path, config.busyTimeoutMs);
    } catch (e) {
      throw storageError(e, `Cannot open the SQLite database ${config.path}`);
    }
  })();
  const { actions, audit, agent, channels, consoleTables, history, list, writer, log } = (() => {
    try {
      if (opts.readOnly) checkReadable(db);
      else {
        migrate(db);
        catchUpTree(db);
      }
      const actions = createActionsTable(db);
      const audit = createAuditTable(db);
      const agent = createAgentTables(db);
      const channels = createChannelTables(db);
      const consoleTables = createConsoleTables(db);
      const history = createHistoryTables(db);
      const kind = opts.readOnly ? 'none' : (opts.writer ?? (workerAvailable() ? 'worker' : 'inline'));
      const writer =
        kind === 'worker'
          ? createWorkerWriter(WORKER_URL, { path: config.path, busyTimeoutMs: config.busyTimeoutMs, maxBatch: config.maxBatch })
          : kind === 'inline'
            ? createInlineWriter(db, createWriteOps({ actions, audit, auditLog: createAuditLogTable(db), agent, channels, console: consoleTables, history }), config.maxBatch, () => audit.tree.invalidate())
            : readOnlyWriter();
      return { actions, audit, agent, channels, consoleTables, history, list: createActionLister(db), writer, log: createAuditLogReads(db) };
    } catch (e) {
      db.close();
      throw storageError(e, `Cannot prepare the SQLite database ${config.path}`);
    }
  })();
  let closing: Promise<void> | undefined;

  return {
    insertAction: async (action, drafts) => {
      const r = await writer.submit('insertAction', { action: packAction(action, drafts) });
      if (!r.inserted) return r;
      action.auditSeqs = r.auditSeqs;
      return { inserted: true, action };
    },
    updateAction: async (next, expectedVersion, drafts) => {
      const seqs = await writer.submit('updateAction', { next, expectedVersion, drafts });
      if (seqs === false) return false;
      next.auditSeqs = seqs;
      return true;
    },
    appendAudit: (drafts) => writer.submit('appendAudit', { drafts }),
    getAction: (id) => read(() => actions.get(id)),
    getByIdempotencyKey: (requesterId, key) => read(() => actions.byIdempotencyKey(requesterId, key)),
    listActions: (q) => read(() => list(q)),
    dueForExpiry: (now, limit) => read(() => actions.dueForExpiry(instantOf(now, 'now'), limitOf(limit))),
    dueForEscalation: (now, limit) => read(() => actions.dueForEscalation(instantOf(now, 'now'), limitOf(limit))),
    withStatus: (status, limit) => read(() => actions.withStatus(status, limitOf(limit))),
    countWithStatus: (status, cap) => read(() => actions.countWithStatus(status, limitOf(cap))),
    awaitingExecution: (limit) => read(() => actions.awaitingExecution(limitOf(limit))),
    readAudit: (start, end) =>
      read(() => {
        const from = Number.isFinite(start) ? Math.max(0, Math.floor(start)) : 0;
        const to = end === Infinity ? Number.MAX_SAFE_INTEGER : Number.isFinite(end) ? Math.floor(end) : 0;
        return from < to ? audit.read(from, to) : [];
      }),
    auditSeqsFor: (actionId) => read(() => audit.seqsFor(actionId)),
    auditSize: () => read(() => audit.size()),
    async health() {
      const reason = writer.broken();
      if (reason) return { ok: false, reason };
      try {
        audit.size();
        return { ok: true };
      } catch {
        return { ok: false, reason: 'the database cannot be read' };
      }
    },
    insertHeld: async (action, drafts) => {
      const r = await writer.submit('insertHeld', { action: packAction(action, drafts) });
      return r.inserted ? { inserted: true, action } : r;
    },
    openHeld: (requesterId, fingerprint) => read(() => agent.openHeld(requesterId, fingerprint)),
    deliver: (actionId, drafts) => writer.submit('deliver', { actionId, drafts, at: new Date().toISOString() }),
    pins: (server) => read(() => new Map(agent.pins(server).map((p) => [p.tool, p.hash]))),
    observe: (server, tools, now) => writer.submit('observeTools', { server, tools, now }),
    repin: (server, tool, actor, now) => writer.submit('repin', { server, tool, actor, now }),
    channels: {
      feedPosition: (feed) => read(() => channels.feedPosition(feed)),
      startFeed: (feed, seq) => writer.submit('startFeed', { feed, seq }),
      cycle: (round) => writer.submit('cycleDeliveries', round),
      messages: (actionId, channel) => read(() => channels.messages(actionId, channel)),
      listDeliveries: (q) => read(() => channels.list(q)),
      attempts: (deliveryId) => read(() => channels.attempts(deliveryId)),
      prune: (before, limit) => writer.submit('pruneDeliveries', { before, limit }),
      rememberInteraction: (key, now, forgetBefore) => writer.submit('rememberInteraction', { key, now, forgetBefore }),
      cancelPending: (a) => writer.submit('cancelDeliveries', a),
    },
    console: {
      createSession: (session, tokenHash, drafts) => writer.submit('createSession', { session, tokenHash, drafts }),
      sessionByToken: (tokenHash) => read(() => consoleTables.byToken(tokenHash)),
      getSession: (id) => read(() => consoleTables.get(id)),
      touchSession: (id, at) => writer.submit('touchSession', { id, at }),
      endSession: (id, at, reason, drafts) => writer.submit('endSession', { id, at, reason, drafts }),
      listSessions: (q) => read(() => consoleTables.list(q)),
      offerLink: (codeHash, offer, createdAt) => writer.submit('offerLink', { codeHash, offer, createdAt }),
      linkOffer: (codeHash, at) => read(() => consoleTables.openOffer(codeHash, instantOf(at, 'at'))),
      claimLink: (codeHash, human, at) => writer.submit('claimLink', { codeHash, human, at }),
      linkedHuman: (channel, chatUserId) => read(() => consoleTables.linked(channel, chatUserId)),
    },
    treeSize: () => read(() => log.treeSize()),
    rootAt: (size) => read(() => log.rootAt(size)),
    inclusionProof: (index, size) => read(() => log.inclusionProof(index, size)),
    consistencyProof: (from, to) => read(() => log.consistencyProof(from, to)),
    latestCheckpoint: () => read(() => log.latestCheckpoint()),
    listCheckpoints: (fromSize, limit) => read(() => log.listCheckpoints(fromSize, limit)),
    checkpointCovering: (size) => read(() => log.checkpointCovering(size)),
    addCheckpoint: (cp, previousSize) => writer.submit('addCheckpoint', { cp, previousSize }),
    addCosignature: (size, witness, line, at) => writer.submit('addCosignature', { size, witness, line, at }),
    claimCursor: (name, owner, nowMs, untilMs) => writer.submit('claimCursor', { name, owner, nowMs, untilMs }),
    advanceCursor: (name, owner, from, to) => writer.submit('advanceCursor', { name, owner, from, to }),
    cursor: (name) => read(() => log.cursor(name)),
    // Counters, first times and grants (ports/history-store.ts, ports/grant-store.ts).
    ...historyMethods(history, writer, read),
    close() {
      closing ??= writer.drain().then(() => {
        db.close();
      });
      return closing;
    },
  };
}
