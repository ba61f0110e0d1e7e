import { afterEach, describe, expect, it, vi } from 'vitest';
import { runShutdownSteps } from './shutdown-steps.js';

afterEach(() => vi.useRealTimers());

describe('runShutdownSteps', () => {
  it('runs the steps in order, and names in the log a step still running after 5 s, then when it ends', async () => {
    vi.useFakeTimers();
    const warned: Array<[Record<string, unknown>, string]> = [];
    const order: string[] = [];
    let release!: () => void;
    const done = runShutdownSteps({ warn: ((o: Record<string, unknown>, m: string) => warned.push([o, m])) as never }, [
      ['quick', () => void order.push('quick')],
      ['slow drain', () => new Promise<void>((r) => (release = () => (order.push('slow'), r())))],
      ['store', async () => void order.push('store')],
    ]);
    await vi.advanceTimersByTimeAsync(4999);
    expect(warned).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(warned).toEqual([[{ step: 'slow drain', waitedMs: 5000 }, 'shutdown: still waiting']]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(warned.map(([o]) => o.step)).toEqual(['slow drain', 'slow drain']);
    expect(order).toEqual(['quick']);
    release();
    await done;
    expect(order).toEqual(['quick', 'slow', 'store']);
    expect(warned.at(-1)).toEqual([{ step: 'slow drain', tookMs: 10_000 }, 'shutdown: step done']);
  });

  it('stops at a step that fails, and says nothing about quick steps', async () => {
    const warn = vi.fn();
    const later = vi.fn();
    await expect(runShutdownSteps({ warn }, [['broken', () => Promise.reject(new Error('boom'))], ['later', later]])).rejects.toThrow('boom');
    expect(later).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
  });
});
