import type { GrantStore } from '../../../ports/grant-store.js';
import type { DecidedActionStore, HistoryStore } from '../../../ports/history-store.js';
import { limitOf } from '../store-error.js';
import type { HistoryTables } from './sqlite-history.js';
import { packAction } from './sqlite-packed-action.js';
import type { Writer } from './sqlite-writer.js';

/** The SQLite store's HistoryStore and GrantStore methods: reads on the connection, writes through the writer. */
export function historyMethods(h: HistoryTables, writer: Writer, read: <T>(fn: () => T) => Promise<T>): HistoryStore & DecidedActionStore & GrantStore {
  return {
    readHits: (cursor, sinceMs, limit) => read(() => h.readHits(cursor, sinceMs, limitOf(limit))),
    readActed: (cursor, limit) => read(() => h.readActed(cursor, limitOf(limit))),
    scanActions: (q) => read(() => h.scan(q.fromMs, q.toMs, q.after, limitOf(q.limit))),
    countActions: (fromMs, toMs) => read(() => h.count(fromMs, toMs)),
    updateWithGrant: async (next, expectedVersion, drafts, grant) => {
      const seqs = await writer.submit('updateWithGrant', { next, expectedVersion, drafts, grant });
      if (seqs === false) return false;
      next.auditSeqs = seqs;
      return true;
    },
    insertWithGrant: async (action, drafts, use) => {
      const r = await writer.submit('insertWithGrant', { action: packAction(action, drafts), use });
      if (!r.inserted) return r;
      action.auditSeqs = r.auditSeqs;
      return { inserted: true, action };
    },
    insertDecided: async (action, drafts, checks) => {
      const r = await writer.submit('insertDecided', { action: packAction(action, drafts), checks });
      if (!r.inserted) return r;
      action.auditSeqs = r.auditSeqs;
      return { inserted: true, action };
    },
    getGrant: (id) => read(() => h.grant(id)),
    listGrants: (q) => read(() => h.grants(limitOf(q.limit), q.usableAt, q.audience)),
    grantsFor: (agent, target, nowMs) => read(() => h.grantsFor(agent, target, nowMs)),
    revokeGrant: (id, by, reason, at) => writer.submit('revokeGrant', { id, by, reason, at }),
    openGrants: (limit) => read(() => h.openGrants(limitOf(limit))),
    endGrants: (ends) => (ends.length ? writer.submit('endGrants', { ends }) : Promise.resolve([])),
  };
}
