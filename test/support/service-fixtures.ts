// What the services' unit tests (src/services/*.test.ts) share: a fresh SQLite store per
// test (inline writer: no thread, same commits), actions inserted already held for
// review, and a store with some methods replaced to force a race or a failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionMode } from '../../src/domain/action.js';
import type { ActionRecord } from '../../src/domain/action-record.js';
import { createAction } from '../../src/domain/lifecycle.js';
import type { Decision } from '../../src/domain/policy-types.js';
import type { ActionEvent, Notifier } from '../../src/ports/notifier.js';
import type { Store } from '../../src/ports/store.js';
import { isAppError } from '../../src/domain/errors.js';
import type { SqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';

export const T0 = new Date('2030-01-01T00:00:00.000Z');
export const HOUR = 3_600_000;

/** A new store in a new directory; `cleanup` closes it and deletes the directory. */
export function tempSqliteStore(name: string): { store: SqliteStore; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), `countersign-${name}-`));
  const store = createSqliteStore({ path: join(dir, `${name}.db`), writer: 'inline' });
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A review by one group of `quorum` approvers. */
export function reviewDecision(quorum: number, timeoutMs = HOUR): Decision {
  return {
    outcome: 'review',
    rules: ['needs-sre'],
    policyVersion: 'sha256:policy',
    reason: 'needs review',
    requirements: [{ ruleId: 'needs-sre', approvers: ['group:sre'], quorum, timeoutMs }],
  };
}

/** A refund request by agent-a (owned by owner@example.com), inserted with `decision`. */
export async function insertHeld(store: Store, decision: Decision, mode?: ActionMode, extra: Partial<ActionRecord> = {}): Promise<ActionRecord> {
  const t = createAction({
    id: `act-${Math.random().toString(36).slice(2)}`,
    request: { kind: 'http', target: 'billing-api', ...(mode ? { mode } : {}), input: { method: 'POST', path: '/refunds', body: { amount: 4200 } } },
    requester: { id: 'agent-a', type: 'agent', owner: 'owner@example.com' },
    decision,
    now: T0,
  });
  const r = await store.insertAction({ ...t.next, ...extra }, t.audit);
  if (!r.inserted) throw new Error('not inserted');
  return r.action;
}

/** The store, with some of its methods replaced. */
export function overriding(inner: Store, over: Partial<Record<keyof Store, unknown>>): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop in over) return over[prop as keyof Store];
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

/** The types of an action's audit entries, in order. */
export async function auditTypes(store: Store, id: string): Promise<string[]> {
  const all = await store.readAudit(0, await store.auditSize());
  return all.filter((e) => e.actionId === id).map((e) => e.type);
}

/** A notifier that keeps every event it is given. */
export function recording(): Notifier & { events: ActionEvent[] } {
  const events: ActionEvent[] = [];
  return { events, notify: (e) => void events.push(e) };
}

/** The catalog code `p` is refused with, or 'resolved'. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isAppError(e)) return e.code;
    throw e;
  }
  return 'resolved';
}
