import type { ActionRecord } from '../domain/action-record.js';
import { audienceOf, canView } from '../domain/action-access.js';
import { AppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import type { Status } from '../domain/status.js';
import { isSettled } from '../domain/status.js';
import type { Store } from '../ports/store.js';
import type { ActionEvents } from './action-events.js';
import type { Waiter } from './action-waiters.js';
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
  /** Long polls and MCP holds waiting on an action now (the countersign_waiters gauge). */
  waiting(): number;
}

export function createQueryService(deps: {
  store: Store;
  events: ActionEvents;
  auditorGroups: readonly string[];
  /** Ids of actions changed by other replicas (PostgreSQL's NOTIFY): releases waiters here at once. */
  remoteChanges?: ((fn: (ids: string[]) => void) => () => void) | undefined;
  onError?: ((e: unknown) => void) | undefined;
}): QueryService {
  const { store } = deps;

  async function get(who: Principal, id: string): Promise<ActionRecord> {
    const a = await store.getAction(id);
    // Not found and not yours look the same: ids of other agents' actions are not confirmed.
    if (!a || !canView(who, a, deps.auditorGroups)) throw new AppError('NOT_FOUND', `No action ${id}`);
    return a;
  }

  /** The action when there is nothing to wait for (settled, the deadline passed, the caller gone); the waiter is then cancelled. */
  async function answerNow(who: Principal, id: string, waiter: Waiter, deadline: number, signal: AbortSignal | undefined): Promise<ActionRecord | undefined> {
    let a: ActionRecord;
    try {
      a = await get(who, id);
    } catch (e) {
      waiter.cancel();
      throw e;
    }
    if (!isSettled(a.status, a.mode) && Date.now() < deadline && !signal?.aborted) return undefined;
    waiter.cancel();
    return a;
  }

  // Another process on the same store (the stdio `countersign mcp`, the CLI) commits no
  // event here: its changes are seen in the audit log, read once for all waiters.
  const waiters = createActionWaiters(deps.events, {
    remoteChanges: deps.remoteChanges,
    feed: { size: () => store.auditSize(), read: (start, end) => store.readAudit(start, end) },
    onError: deps.onError,
  });

  return {
    get,
    async wait(who, id, seconds, signal) {
      const deadline = Date.now() + seconds * 1000;
      for (;;) {
        // Registered before the read: a change committed in between still wakes it.
        const waiter = waiters.register(id, deadline, signal);
        // The record read is the answer, or dropped before waiting: a suspended async function
        // keeps all its locals, and ten thousand waiters each kept one (docs/reliability.md, many waiters).
        const answer = await answerNow(who, id, waiter, deadline, signal);
        if (answer) return answer;
        const next = await waiter.woken;
        // The committed record came with the wake: settled, it is the answer, with no read.
        if (next && isSettled(next.status, next.mode) && canView(who, next, deps.auditorGroups)) return next;
      }
    },
    waiting: () => waiters.size(),
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
