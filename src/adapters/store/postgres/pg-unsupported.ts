import { AppError } from '../../../domain/errors.js';
import type { ConsoleSessionStore, ChatLinkStore } from '../../../ports/console-sessions.js';
import type { GrantStore } from '../../../ports/grant-store.js';
import type { HistoryStore } from '../../../ports/history-store.js';

/*
 * The ports added beside the PostgreSQL store (standing grants, counters, console
 * sessions) have no PostgreSQL adapter yet. Until they do, each of their methods fails
 * closed with a clear error: a policy that reads counters or grants, or the console,
 * refuses to decide on this store rather than deciding on missing history.
 */
function unsupported(what: string): () => Promise<never> {
  return () => Promise.reject(new AppError('STORAGE_ERROR', `The PostgreSQL store does not support ${what} yet; use the SQLite store for it (docs/production.md).`));
}

export type PendingPorts = HistoryStore & GrantStore & { console: ConsoleSessionStore & ChatLinkStore };

export function pendingPorts(): PendingPorts {
  const history = unsupported('counters, first-time triggers and policy replay');
  const grants = unsupported('standing grants');
  const sessions = unsupported('web console sessions and chat links');
  return {
    readHits: history,
    readActed: history,
    scanActions: history,
    countActions: history,
    updateWithGrant: grants,
    insertWithGrant: grants,
    getGrant: grants,
    listGrants: grants,
    grantsFor: grants,
    revokeGrant: grants,
    console: {
      createSession: sessions,
      sessionByToken: sessions,
      getSession: sessions,
      touchSession: sessions,
      endSession: sessions,
      listSessions: sessions,
      offerLink: sessions,
      linkOffer: sessions,
      claimLink: sessions,
      linkedHuman: sessions,
    },
  };
}
