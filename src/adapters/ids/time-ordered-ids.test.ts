import { describe, expect, it } from 'vitest';
import { createTimeOrderedIds } from './time-ordered-ids.js';

describe('action ids', () => {
  it('are act_ + 32 hex digits, sort by creation time, and do not repeat', () => {
    const ids = createTimeOrderedIds();
    const seen = new Set<string>();
    let last = '';
    for (let i = 0; i < 10_000; i++) {
      const id = ids.actionId();
      expect(id).toMatch(/^act_[0-9a-f]{32}$/);
      expect(id.slice(0, 16) >= last.slice(0, 16)).toBe(true);
      seen.add(id);
      last = id;
    }
    expect(seen.size).toBe(10_000);
  });
});
