import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '../domain/action-record.js';
import { createActionEvents } from './action-events.js';
import { createActionWaiters } from './action-waiters.js';

const changed = (id: string) => ({ type: 'changed' as const, action: { id } as ActionRecord });
const HOUR = 3_600_000;

describe('action waiters', () => {
  it("a change wakes the waiters of its action only, and each waiter's registration is gone once woken", async () => {
    const events = createActionEvents();
    const waiters = createActionWaiters(events);
    const woken: string[] = [];
    const a1 = waiters.changeOrTimeout('a', HOUR).then(() => woken.push('a1'));
    const a2 = waiters.changeOrTimeout('a', HOUR).then(() => woken.push('a2'));
    void waiters.changeOrTimeout('b', HOUR).then(() => woken.push('b'));
    expect(waiters.size()).toBe(3);
    events.notify(changed('a'));
    await Promise.all([a1, a2]);
    expect(woken.sort()).toEqual(['a1', 'a2']);
    expect(waiters.size()).toBe(1);
    events.notify(changed('b'));
    await Promise.resolve();
    expect(woken).toContain('b');
    expect(waiters.size()).toBe(0);
  });

  it('one listener of the events however many wait, so a change costs one lookup', async () => {
    let listeners = 0;
    const inner = createActionEvents();
    const events = { ...inner, subscribe: (l: Parameters<typeof inner.subscribe>[0]) => (listeners++, inner.subscribe(l)) };
    const waiters = createActionWaiters(events);
    const all = Array.from({ length: 1000 }, (_, i) => waiters.changeOrTimeout(`x${i}`, HOUR));
    expect(listeners).toBe(1);
    for (let i = 0; i < 1000; i++) events.notify(changed(`x${i}`));
    await Promise.all(all);
    expect(waiters.size()).toBe(0);
  });

  it('ends at the timeout or on abort, unregistering the waiter', async () => {
    const waiters = createActionWaiters(createActionEvents());
    await waiters.changeOrTimeout('a', 1);
    expect(waiters.size()).toBe(0);
    const ac = new AbortController();
    const p = waiters.changeOrTimeout('a', HOUR, ac.signal);
    expect(waiters.size()).toBe(1);
    ac.abort();
    await p;
    expect(waiters.size()).toBe(0);
  });

  it("another replica's change (remoteChanges) wakes the waiters of the ids it names", async () => {
    let remote: ((ids: string[]) => void) | undefined;
    const waiters = createActionWaiters(createActionEvents(), (fn) => {
      remote = fn;
      return () => undefined;
    });
    const woken: string[] = [];
    const p = waiters.changeOrTimeout('a', HOUR).then(() => woken.push('a'));
    void waiters.changeOrTimeout('c', HOUR).then(() => woken.push('c'));
    remote!(['a', 'b']);
    await p;
    expect(woken).toEqual(['a']);
    expect(waiters.size()).toBe(1);
  });
});
