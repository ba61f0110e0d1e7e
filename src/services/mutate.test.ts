import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '../domain/action-record.js';
import { isAppError } from '../domain/errors.js';
import type { Transition } from '../domain/lifecycle.js';
import type { Store } from '../ports/store.js';
import { mutateAction } from './mutate.js';

// The read-decide-swap loop's edges (the races themselves are in mutate-race.test.ts).
const record = { id: 'act-1', version: 3 } as ActionRecord;
const decide = (cur: ActionRecord): Transition => ({ next: { ...cur, version: cur.version + 1 }, audit: [] });

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isAppError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('mutateAction', () => {
  it('refuses an action that does not exist with NOT_FOUND naming it, and writes nothing', async () => {
    let writes = 0;
    const store = { getAction: async () => undefined, updateAction: async () => (writes++, true) } as unknown as Store;
    expect(await codeOf(mutateAction(store, 'act-404', decide))).toEqual({ code: 'NOT_FOUND', message: 'No action act-404' });
    expect(writes).toBe(0);
  });

  it('gives up with CONFLICT after exactly eight lost compare-and-swaps, re-reading before each', async () => {
    let reads = 0;
    let writes = 0;
    const store = { getAction: async () => (reads++, record), updateAction: async () => (writes++, false) } as unknown as Store;
    expect((await codeOf(mutateAction(store, 'act-1', decide))).code).toBe('CONFLICT');
    expect([reads, writes]).toEqual([8, 8]);
  });

  it('retries on a lost swap with the fresh state and reports the write that won', async () => {
    const versions: number[] = [];
    let current = record;
    const store = {
      getAction: async () => current,
      updateAction: async (next: ActionRecord, expected: number) => {
        versions.push(expected);
        if (versions.length === 1) {
          current = { ...current, version: current.version + 1 }; // someone else wrote meanwhile
          return false;
        }
        return true;
      },
    } as unknown as Store;
    const { before, result } = await mutateAction(store, 'act-1', decide);
    expect(versions).toEqual([3, 4]);
    expect(before.version).toBe(4);
    expect(result.next.version).toBe(5);
  });
});
