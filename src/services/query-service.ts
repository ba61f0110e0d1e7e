import type { ActionRecord } from '../domain/action-record.js';
import { audienceOf, canView } from '../domain/action-access.js';
import { AppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import type { Status } from '../domain/status.js';
import { isSettled } from '../domain/status.js';
import type { Store } from '../ports/store.js';
import type { ActionEvents } from './action-events.js';
import { createActionWaiters } from './action-waiters.js';

export interface ListInput {
  status?: Status[];
  limit: number;
  before?: { createdAt: string; id: string };
}

export interface QueryService {
  get(who: Principal, id: string): Promise<ActionRecord>;
  /** Returns as soon as the action settles, or at the deadline. */
  wait(who: Principal, id: string, seconds: number, signal?: AbortSignal): Promise<ActionRecord>;
  list(who: Principal, q: ListInput): Promise<ActionRecord[]>;
}

/** How often a long poll re-reads the store when no in-process event arrives (another process may change the action). */
const POLL_MS = 500;

export function createQueryService(deps: {
  store: Store;
  events: ActionEvents;
  auditorGroups: readonly string[];
  /** Ids of actions changed by other replicas (PostgreSQL's NOTIFY): releases waiters here at once. */
  remoteChanges?: ((fn: (ids: string[]) => void) => () => void) | undefined;
}): QueryService {
  const { store } = deps;

  async function get(who: Principal, id: string): Promise<ActionRecord> {
    const a = await store.getAction(id);
    // Not found and not yours look the same: ids of other agents' actions are not confirmed.
    if (!a || !canView(who, a, deps.auditorGroups)) throw new AppError('NOT_FOUND', `No action ${id}`);
    return a;
  }

  const waiters = createActionWaiters(deps.events, deps.remoteChanges);

  return {
    get,
    async wait(who, id, seconds, signal) {
      const deadline = Date.now() + seconds * 1000;
      let a = await get(who, id);
      while (!isSettled(a.status, a.mode) && Date.now() < deadline && !signal?.aborted) {
        await waiters.changeOrTimeout(id, Math.min(POLL_MS, deadline - Date.now()), signal);
        a = await get(who, id);
      }
      return a;
    },
    async list(who, q) {
      const base = { limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(q.before ? { before: q.before } : {}) };
      if (who.type === 'agent') return store.listActions({ ...base, requesterId: who.id });
      if (who.groups.some((g) => deps.auditorGroups.includes(g))) return store.listActions(base);
      // Humans see what they may review or have reviewed (the audience index holds both).
      const rows = await store.listActions({ ...base, audience: audienceOf(who) });
      return rows.filter((a) => canView(who, a, deps.auditorGroups));
    },
  };
}
