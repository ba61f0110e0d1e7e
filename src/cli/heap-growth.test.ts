import { describe, expect, it } from 'vitest';
import { heapGrowthFlag } from './heap-growth.js';

describe('the heap growth cap', () => {
  it('a configured percentage becomes the V8 flag', () => {
    expect(heapGrowthFlag(25, [], undefined)).toBe('--heap-growing-percent=25');
  });

  it('0 leaves V8 its own heuristics', () => {
    expect(heapGrowthFlag(0, [], undefined)).toBeUndefined();
  });

  it('a process started with its own value keeps it, whether on the command line or in NODE_OPTIONS, in either spelling', () => {
    expect(heapGrowthFlag(25, ['--heap-growing-percent=60'], undefined)).toBeUndefined();
    expect(heapGrowthFlag(25, ['--heap_growing_percent=60'], undefined)).toBeUndefined();
    expect(heapGrowthFlag(25, [], '--max-semi-space-size=4 --heap-growing-percent=60')).toBeUndefined();
    expect(heapGrowthFlag(25, ['--max-semi-space-size=4'], '--enable-source-maps')).toBe('--heap-growing-percent=25');
  });
});
