import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '../domain/action-record.js';
import type { AuditEntry } from '../domain/audit-entry.js';
import type { Principal } from '../domain/identity.js';
import type { Store } from '../ports/store.js';
import { createActionEvents } from './action-events.js';
import { createQueryService } from './query-service.js';

const agent: Principal = { type: 'agent', id: 'bot', owner: 'o@example.com', labels: {} };
const other: Principal = { type: 'agent', id: 'other-bot', owner: 'o@example.com', labels: {} };
const record = (status: ActionRecord['status'], version: number) =>
  ({ id: 'act_1', status, mode: 'decide', version, requester: { type: 'agent', id: 'bot', owner: 'o@example.com' } }) as unknown as ActionRecord;

/** A store holding one action and an audit log, counting the reads of the action. */
function fakeStore() {
  const state = { action: record('pending', 1), reads: 0, log: [] as { actionId?: string }[] };
  const store = {
    getAction: async () => (state.reads++, state.action),
    auditSize: async () => state.log.length,
    readAudit: async (start: number, end: number) => state.log.slice(start, end) as AuditEntry[],
  } as unknown as Store;
  return { state, store };
}

describe('long polls (query service wait)', () => {
  it('answers with the committed record of the change that settled the action, without reading the action again', async () => {
    const { state, store } = fakeStore();
    const events = createActionEvents();
    const queries = createQueryService({ store, events, auditorGroups: [] });
    const waiting = queries.wait(agent, 'act_1', 60);
    await new Promise((r) => setImmediate(r));
    expect(state.reads).toBe(1);
    const approved = record('approved', 2);
    events.notify({ type: 'changed', action: approved });
    expect(await waiting).toBe(approved);
    expect(state.reads).toBe(1);
  });

  it("a change made by another process on the store, seen only in the audit log, releases the long poll with the action's new state", async () => {
    const { state, store } = fakeStore();
    const queries = createQueryService({ store, events: createActionEvents(), auditorGroups: [] });
    const waiting = queries.wait(agent, 'act_1', 60);
    await new Promise((r) => setImmediate(r));
    state.action = record('denied', 2);
    state.log.push({ actionId: 'act_1' });
    expect((await waiting).status).toBe('denied');
  });

  it('ends at its deadline with the state read then, and never shows the action to an agent that may not see it', async () => {
    const { store } = fakeStore();
    const queries = createQueryService({ store, events: createActionEvents(), auditorGroups: [] });
    expect((await queries.wait(agent, 'act_1', 0.05)).status).toBe('pending');
    await expect(queries.wait(other, 'act_1', 60)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
