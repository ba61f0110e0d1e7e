import { describe, expect, it } from 'vitest';
import { ACTION_KINDS, TARGET_KINDS, kindVariable, runsOn, shortFingerprint } from './action.js';

describe('action kinds and target kinds', () => {
  it('each action kind runs on its own engine only: sql on postgres, the others on the target kind of their name', () => {
    const expected: Record<string, string> = { http: 'http', mcp: 'mcp', tool: 'tool', sql: 'postgres', command: 'command' };
    for (const kind of ACTION_KINDS) {
      for (const target of TARGET_KINDS) expect(runsOn(kind, target), `${kind} on ${target}`).toBe(expected[kind] === target);
    }
  });

  it('names the CEL variable of a kind: its name, but cmd for commands', () => {
    expect(ACTION_KINDS.map(kindVariable)).toEqual(['http', 'mcp', 'tool', 'sql', 'cmd']);
  });
});

describe('short fingerprints', () => {
  it('keep the sha256: prefix and the first 12 hex digits', () => {
    expect(shortFingerprint(`sha256:0123456789abcdef${'0'.repeat(48)}`)).toBe('sha256:0123456789ab');
  });
});
