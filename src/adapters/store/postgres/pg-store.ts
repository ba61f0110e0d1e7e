import type pg from 'pg';
import type { AuditLog } from '../../../ports/audit-log.js';
import type { ChannelStore } from '../../../ports/channel-store.js';
import type { ChatLinkStore, ConsoleSessionStore } from '../../../ports/console-sessions.js';
import type { GrantStore } from '../../../ports/grant-store.js';
import type { HeldCallStore } from '../../../ports/held-calls.js';
import type { DecidedActionStore, HistoryStore } from '../../../ports/history-store.js';
import type { Store } from '../../../ports/store.js';
import type { ToolPinStore } from '../../../ports/tool-pins.js';
import { instantOf, storageError } from '../store-error.js';
import { actionReads } from './pg-actions.js';
import { agentSql } from './pg-agent.js';
import { auditSize, createAuditLogReads, lockHead, readEntries, seqsFor } from './pg-audit.js';
import { channelSql } from './pg-channels.js';
import { consoleSql } from './pg-console.js';
import { historySql } from './pg-history.js';
import type { PgConnectOptions } from './pg-connect.js';
import { createPgPool, quoteSchema } from './pg-connect.js';
import type { PgListener } from './pg-listen.js';
import { createPgListener } from './pg-listen.js';
import { checkSchemaVersion, migratePg } from './pg-migrate.js';
import { catchUpPgTree, createPgTreeAppender } from './pg-tree.js';
import { createPgWriter } from './pg-writer.js';

export interface PostgresStoreOptions {
  url: string;
  schema: string;
  /** Most connections of this replica: the writer holds one per batch, reads share the rest. */
  poolMax?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Most writes per transaction (group commit). Default 256. */
  maxBatch?: number;
  /** `auto`: apply pending migrations at start (under an advisory lock); `never`: refuse a schema of another version. */
  migrate?: 'auto' | 'never';
  /** Offline tools: no migration, no writer, no listener; every write is refused. */
  readOnly?: boolean;
  /** LISTEN for other replicas' changes (servers; not offline tools). Default true unless readOnly. */
  listen?: boolean;
  /** Told about failures of the LISTEN connection (logs). */
  onListenError?: (e: unknown) => void;
}

/** The PostgreSQL store: every port the SQLite store implements, for one or several replicas. */
export type PostgresStore = Store &
  AuditLog &
  HeldCallStore &
  ToolPinStore &
  HistoryStore &
  DecidedActionStore &
  GrantStore & {
    channels: ChannelStore;
    console: ConsoleSessionStore & ChatLinkStore;
    /** Ids of actions changed by any replica, after commit (LISTEN/NOTIFY); see pg-listen.ts. */
    watchChanges(fn: (ids: string[]) => void): () => void;
  };

/** The NOTIFY channel of a schema (identifiers are at most 63 bytes). */
export const notifyChannel = (schema: string) => `countersign_${schema}`.slice(0, 63);

function read<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((e: unknown) => Promise.reject(storageError(e)));
}

export async function createPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  quoteSchema(opts.schema);
  const conn: PgConnectOptions = Object.freeze({
    url: opts.url,
    schema: opts.schema,
    max: opts.poolMax ?? 10,
    statementTimeoutMs: opts.statementTimeoutMs ?? 30_000,
    connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
  });
  const pool: pg.Pool = createPgPool(conn);
  const tree = createPgTreeAppender();
  try {
    if (opts.readOnly || opts.migrate === 'never') await checkSchemaVersion(pool, opts.schema);
    else await migratePg(pool, opts.schema);
    if (!opts.readOnly) await catchUp(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw storageError(e, `Cannot prepare the PostgreSQL store (schema ${opts.schema})`);
  }
  const channel = notifyChannel(opts.schema);
  const writer = opts.readOnly ? undefined : createPgWriter(pool, tree, channel, opts.maxBatch ?? 256);
  const listener: PgListener | undefined = (opts.listen ?? !opts.readOnly) ? createPgListener(conn, channel, opts.onListenError) : undefined;
  const log = createAuditLogReads(pool);
  const refuse = () => Promise.reject(storageError(new Error('read-only'), 'The store is open read-only'));
  const submit: NonNullable<typeof writer>['submit'] = (op, args) => (writer ? writer.submit(op, args) : refuse());
  let closing: Promise<void> | undefined;

  return {
    insertAction: async (action, drafts) => {
      const r = await submit('insertAction', { action, drafts });
      if (!r.inserted) return r;
      action.auditSeqs = r.auditSeqs;
      return { inserted: true, action };
    },
    updateAction: async (next, expectedVersion, drafts) => {
      const seqs = await submit('updateAction', { next, expectedVersion, drafts });
      if (seqs === false) return false;
      next.auditSeqs = seqs;
      return true;
    },
    appendAudit: (drafts) => submit('appendAudit', { drafts }),
    getAction: (id) => read(() => actionReads.get(pool, id)),
    getByIdempotencyKey: (requesterId, key) => read(() => actionReads.byIdempotencyKey(pool, requesterId, key)),
    listActions: (q) => read(() => actionReads.list(pool, q)),
    dueForExpiry: (now, limit) => read(() => actionReads.dueForExpiry(pool, now, limit)),
    dueForEscalation: (now, limit) => read(() => actionReads.dueForEscalation(pool, now, limit)),
    withStatus: (status, limit) => read(() => actionReads.withStatus(pool, status, limit)),
    countWithStatus: (status, cap) => read(() => actionReads.countWithStatus(pool, status, cap)),
    awaitingExecution: (limit) => read(() => actionReads.awaitingExecution(pool, limit)),
    readAudit: (start, end) => read(() => readEntries(pool, start, end)),
    auditSeqsFor: (actionId) => read(() => seqsFor(pool, actionId)),
    auditSize: () => read(() => auditSize(pool)),
    async health() {
      if (closing) return { ok: false, reason: 'the store is closed' };
      try {
        await pool.query('SELECT 1');
        return { ok: true };
      } catch {
        // Never the driver's message: it may name the host or the user.
        return { ok: false, reason: 'the PostgreSQL database cannot be reached' };
      }
    },
    insertHeld: async (action, drafts) => {
      const r = await submit('insertHeld', { action, drafts });
      return r.inserted ? { inserted: true, action } : r;
    },
    openHeld: (requesterId, fingerprint) => read(() => agentSql.openHeld(pool, requesterId, fingerprint)),
    deliver: (actionId, drafts) => submit('deliver', { actionId, drafts, at: new Date().toISOString() }),
    pins: (server) => read(async () => new Map((await agentSql.pins(pool, server)).map((p) => [p.tool, p.hash]))),
    observe: (server, tools, now) => submit('observeTools', { server, tools, now }),
    repin: (server, tool, actor, now) => submit('repin', { server, tool, actor, now }),
    channels: {
      feedPosition: (feed) => read(() => channelSql.feedPosition(pool, feed)),
      startFeed: (feed, seq) => submit('startFeed', { feed, seq }),
      cycle: (round) => submit('cycleDeliveries', round),
      messages: (actionId, channel) => read(() => channelSql.messages(pool, actionId, channel)),
      listDeliveries: (q) => read(() => channelSql.list(pool, q)),
      attempts: (deliveryId) => read(() => channelSql.attempts(pool, deliveryId)),
      prune: (before, limit) => submit('pruneDeliveries', { before, limit }),
      rememberInteraction: (key, now, forgetBefore) => submit('rememberInteraction', { key, now, forgetBefore }),
      cancelPending: (a) => submit('cancelDeliveries', a),
    },
    // Counters, first times and grants (ports/history-store.ts, ports/grant-store.ts).
    readHits: (cursor, sinceMs, limit) => read(() => historySql.readHits(pool, cursor, sinceMs, limit)),
    readActed: (cursor, limit) => read(() => historySql.readActed(pool, cursor, limit)),
    scanActions: (q) => read(() => historySql.scan(pool, q.fromMs, q.toMs, q.after, q.limit)),
    countActions: (fromMs, toMs) => read(() => historySql.count(pool, fromMs, toMs)),
    updateWithGrant: async (next, expectedVersion, drafts, grant) => {
      const seqs = await submit('updateWithGrant', { next, expectedVersion, drafts, grant });
      if (seqs === false) return false;
      next.auditSeqs = seqs;
      return true;
    },
    insertWithGrant: async (action, drafts, use) => {
      const r = await submit('insertWithGrant', { action, drafts, use });
      if (!r.inserted) return r;
      action.auditSeqs = r.auditSeqs;
      return { inserted: true, action };
    },
    insertDecided: async (action, drafts, checks) => {
      const r = await submit('insertDecided', { action, drafts, checks });
      if (!r.inserted) return r;
      action.auditSeqs = r.auditSeqs;
      return { inserted: true, action };
    },
    getGrant: (id) => read(() => historySql.grant(pool, id)),
    listGrants: (q) => read(() => historySql.grants(pool, q.limit, q.usableAt, q.audience)),
    grantsFor: (agent, target, nowMs) => read(() => historySql.grantsFor(pool, agent, target, nowMs)),
    revokeGrant: (id, by, reason, at) => submit('revokeGrant', { id, by, reason, at }),
    openGrants: (limit) => read(() => historySql.openGrants(pool, limit)),
    endGrants: (ends) => (ends.length ? submit('endGrants', { ends }) : Promise.resolve([])),
    // The web console's sessions and chat links (ports/console-sessions.ts).
    console: {
      createSession: (session, tokenHash, drafts) => submit('createSession', { session, tokenHash, drafts }),
      sessionByToken: (tokenHash) => read(() => consoleSql.byToken(pool, tokenHash)),
      getSession: (id) => read(() => consoleSql.get(pool, id)),
      touchSession: (id, at) => submit('touchSession', { id, at }),
      endSession: (id, at, reason, drafts) => submit('endSession', { id, at, reason, drafts }),
      listSessions: (q) => read(() => consoleSql.list(pool, q)),
      offerLink: (codeHash, offer, createdAt) => submit('offerLink', { codeHash, offer, createdAt }),
      linkOffer: (codeHash, at) => read(() => consoleSql.openOffer(pool, codeHash, instantOf(at, 'at'))),
      claimLink: (codeHash, human, at) => submit('claimLink', { codeHash, human, at }),
      linkedHuman: (channel, chatUserId) => read(() => consoleSql.linked(pool, channel, chatUserId)),
    },
    treeSize: () => read(() => auditSize(pool)),
    rootAt: (size) => read(() => log.rootAt(size)),
    inclusionProof: (index, size) => read(() => log.inclusionProof(index, size)),
    consistencyProof: (from, to) => read(() => log.consistencyProof(from, to)),
    latestCheckpoint: () => read(() => log.latestCheckpoint()),
    listCheckpoints: (fromSize, limit) => read(() => log.listCheckpoints(fromSize, limit)),
    checkpointCovering: (size) => read(() => log.checkpointCovering(size)),
    addCheckpoint: (cp, previousSize) => submit('addCheckpoint', { cp, previousSize }),
    addCosignature: (size, witness, line, at) => submit('addCosignature', { size, witness, line, at }),
    claimCursor: (name, owner, nowMs, untilMs) => submit('claimCursor', { name, owner, nowMs, untilMs }),
    advanceCursor: (name, owner, from, to) => submit('advanceCursor', { name, owner, from, to }),
    cursor: (name) => read(() => log.cursor(name)),
    watchChanges: (fn) => listener?.subscribe(fn) ?? (() => undefined),
    close() {
      closing ??= (async () => {
        await writer?.drain();
        await listener?.close();
        await pool.end();
      })();
      return closing;
    },
  };
}

/** Rebuilds missing tree nodes (entries copied in without them), holding the sequencer. */
async function catchUp(pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const size = await lockHead(c);
    await catchUpPgTree(c, size);
    await c.query('COMMIT');
    c.release();
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    c.release(e as Error);
    throw e;
  }
}
