import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionRecord } from '../domain/action-record.js';
import { createActionEvents } from './action-events.js';
import type { ActionWaiters, ChangeFeed } from './action-waiters.js';
import { createActionWaiters } from './action-waiters.js';

const record = (id: string) => ({ id, status: 'approved' }) as ActionRecord;
const changed = (id: string) => ({ type: 'changed' as const, action: record(id) });
const HOUR = 3_600_000;
const later = () => Date.now() + HOUR;

let open: ActionWaiters[] = [];
function waitersOf(...args: Parameters<typeof createActionWaiters>): ActionWaiters {
  const w = createActionWaiters(...args);
  open.push(w);
  return w;
}
afterEach(() => {
  for (const w of open) w.close();
  open = [];
});

describe('action waiters', () => {
  it("a change wakes the waiters of its action only, hands them the committed record, and each waiter's registration is gone once woken", async () => {
    const events = createActionEvents();
    const waiters = waitersOf(events);
    const a1 = waiters.register('a', later());
    const a2 = waiters.register('a', later());
    let bWoken = false;
    void waiters.register('b', later()).woken.then(() => (bWoken = true));
    expect(waiters.size()).toBe(3);
    const event = changed('a');
    events.notify(event);
    expect(await a1.woken).toBe(event.action);
    expect(await a2.woken).toBe(event.action);
    expect(bWoken).toBe(false);
    expect(waiters.size()).toBe(1);
    events.notify(changed('b'));
    await nextTurn();
    expect(bWoken).toBe(true);
    expect(waiters.size()).toBe(0);
  });

  it('a waiter registered before its caller reads the action is woken by a change committed before it awaits', async () => {
    const events = createActionEvents();
    const waiters = waitersOf(events);
    const w = waiters.register('a', later());
    // The caller's read happens here; the change commits before the caller awaits.
    events.notify(changed('a'));
    expect((await w.woken)?.id).toBe('a');
  });

  it('one listener of the events however many wait, so a change costs one lookup', async () => {
    let listeners = 0;
    const inner = createActionEvents();
    const events = { ...inner, subscribe: (l: Parameters<typeof inner.subscribe>[0]) => (listeners++, inner.subscribe(l)) };
    const waiters = waitersOf(events);
    const all = Array.from({ length: 1000 }, (_, i) => waiters.register(`x${i}`, later()).woken);
    expect(listeners).toBe(1);
    for (let i = 0; i < 1000; i++) events.notify(changed(`x${i}`));
    await Promise.all(all);
    expect(waiters.size()).toBe(0);
  });

  it('many woken at once are resolved a slice at a time, the event loop turning between slices', async () => {
    const events = createActionEvents();
    const waiters = waitersOf(events, { slice: 10 });
    let resolved = 0;
    for (let i = 0; i < 35; i++) void waiters.register(`x${i}`, later()).woken.then(() => resolved++);
    for (let i = 0; i < 35; i++) events.notify(changed(`x${i}`));
    await Promise.resolve();
    expect(resolved).toBe(10);
    await nextTurn();
    expect(resolved).toBe(20);
    await nextTurn();
    await nextTurn();
    expect(resolved).toBe(35);
    expect(waiters.size()).toBe(0);
  });

  it('ends at the deadline (one sweep for all, no timer per waiter) or on abort or cancel, unregistering the waiter', async () => {
    const waiters = waitersOf(createActionEvents(), { tickMs: 5 });
    expect(await waiters.register('a', Date.now() + 1).woken).toBeUndefined();
    expect(waiters.size()).toBe(0);
    const ac = new AbortController();
    const p = waiters.register('a', later(), ac.signal);
    expect(waiters.size()).toBe(1);
    ac.abort();
    expect(await p.woken).toBeUndefined();
    expect(waiters.size()).toBe(0);
    const c = waiters.register('a', later());
    c.cancel();
    expect(await c.woken).toBeUndefined();
    expect(waiters.size()).toBe(0);
    ac.abort();
    // Already aborted: never registered.
    expect(await waiters.register('a', later(), ac.signal).woken).toBeUndefined();
    expect(waiters.size()).toBe(0);
  });

  it("another replica's change (remoteChanges) wakes the waiters of the ids it names", async () => {
    let remote: ((ids: string[]) => void) | undefined;
    const waiters = waitersOf(createActionEvents(), {
      remoteChanges: (fn) => {
        remote = fn;
        return () => undefined;
      },
    });
    const a = waiters.register('a', later());
    let cWoken = false;
    void waiters.register('c', later()).woken.then(() => (cWoken = true));
    remote!(['a', 'b']);
    expect(await a.woken).toBeUndefined();
    expect(cWoken).toBe(false);
    expect(waiters.size()).toBe(1);
  });

  it("another process's change, seen in the audit log, wakes the waiters of its action; entries from before anyone waited do not", async () => {
    const log: { actionId?: string }[] = [{ actionId: 'a' }, {}];
    const reads: [number, number][] = [];
    const feed: ChangeFeed = {
      size: async () => log.length,
      read: async (start, end) => (reads.push([start, end]), log.slice(start, end)),
    };
    const waiters = waitersOf(createActionEvents(), { feed, pollMs: 5, tickMs: 5 });
    let aWoken = false;
    const a = waiters.register('a', later());
    void a.woken.then(() => (aWoken = true));
    const b = waiters.register('b', later());
    await new Promise((r) => setTimeout(r, 30));
    expect(aWoken).toBe(false);
    log.push({ actionId: 'b' });
    expect(await b.woken).toBeUndefined();
    expect(reads).toEqual([[2, 3]]);
    a.cancel();
  });
});
