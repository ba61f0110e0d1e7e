import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '../domain/action-record.js';
import type { Store } from '../ports/store.js';
import { createWriteCoalescer } from './write-coalescer.js';

/** Records the order of writes and the event-loop turn each was requested in. */
function recordingStore() {
  const calls: Array<{ op: string; id: string; turn: number }> = [];
  let turn = 0;
  const tick = () => {
    turn++;
    setImmediate(tick).unref();
  };
  tick();
  const store = {
    updateAction: (next: ActionRecord) => (calls.push({ op: 'update', id: next.id, turn }), Promise.resolve(true)),
    insertAction: (a: ActionRecord) => (calls.push({ op: 'insert', id: a.id, turn }), Promise.resolve({ inserted: true as const, action: a })),
    getAction: () => Promise.resolve(undefined),
  } as unknown as Store;
  return { store, calls };
}

const rec = (id: string) => ({ id }) as ActionRecord;

describe('write coalescer', () => {
  it('sends a deferred update with the next write, before it and in the same turn', async () => {
    const { store, calls } = recordingStore();
    const c = createWriteCoalescer(store, 1000);
    const deferred = c.deferUpdate(rec('a1'), 1, []);
    expect(calls).toEqual([]);
    await c.store.insertAction(rec('a2'), []);
    expect(await deferred).toBe(true);
    expect(calls.map((x) => `${x.op}:${x.id}`)).toEqual(['update:a1', 'insert:a2']);
    expect(calls[0]!.turn).toBe(calls[1]!.turn);
  });

  it('writes a deferred update alone after the delay when no other write comes', async () => {
    const { store, calls } = recordingStore();
    const c = createWriteCoalescer(store, 5);
    expect(await c.deferUpdate(rec('a1'), 1, [])).toBe(true);
    expect(calls.map((x) => x.op)).toEqual(['update']);
  });

  it('reads pass straight through and send nothing', async () => {
    const { store, calls } = recordingStore();
    const c = createWriteCoalescer(store, 1000);
    void c.deferUpdate(rec('a1'), 1, []);
    await c.store.getAction('x');
    expect(calls).toEqual([]);
    await c.store.insertAction(rec('a2'), []);
    expect(calls).toHaveLength(2);
  });
});
