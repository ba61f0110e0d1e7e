import { describe, expect, it } from 'vitest';
import { readDriftRows, strictestDrift } from './drift-tolerance.js';
import { PolicyError, compilePolicy } from './policy-compile.js';

const policy = (drift: string) =>
  compilePolicy(`rules:\n  - id: w\n    match: { kind: sql }\n    outcome: review\n    review: { approvers: [group:dba], quorum: 1, timeout: 1h, drift: ${drift} }\n`, 'policy.yaml', { groupExists: () => true });

describe('drift tolerance in policy (review.drift.rows)', () => {
  it('reads a percentage, a number of rows, and zero as exact', () => {
    expect(readDriftRows('10%')).toEqual({ kind: 'percent', value: 10 });
    expect(readDriftRows(5)).toEqual({ kind: 'absolute', value: 5 });
    expect(readDriftRows(0)).toEqual({ kind: 'exact' });
    expect(readDriftRows('0%')).toEqual({ kind: 'exact' });
  });

  it('is carried by the rule into the decision requirements', () => {
    const p = policy('{ rows: "10%" }').policy;
    const d = p.evaluate({ action: { kind: 'sql', target: 'db', input: {}, mode: 'execute' }, requester: { id: 'a', type: 'agent', labels: {} }, target: { name: 'db', kind: 'postgres', labels: {} } });
    expect(d.requirements[0]?.drift).toEqual({ kind: 'percent', value: 10 });
  });

  it('refuses malformed tolerances at the exact key', () => {
    for (const bad of ['{ rows: -1 }', '{ rows: "ten" }', '{ rows: 1.5 }', '{}', '{ rows: 1, cols: 2 }', '{ rows: "5000%" }']) {
      expect(() => policy(bad), bad).toThrow(PolicyError);
      try {
        policy(bad);
      } catch (e) {
        expect((e as PolicyError).issues[0]?.path, bad).toMatch(/^rules\[0\]\.review\.drift/);
      }
    }
  });

  it('keeps the strictest of the fired rules, comparing kinds on the previewed counts', () => {
    expect(strictestDrift([{ kind: 'percent', value: 10 }, { kind: 'absolute', value: 2 }], [100])).toEqual({ kind: 'absolute', value: 2 });
    expect(strictestDrift([{ kind: 'percent', value: 10 }, { kind: 'absolute', value: 50 }], [100])).toEqual({ kind: 'percent', value: 10 });
    expect(strictestDrift([{ kind: 'percent', value: 10 }, { kind: 'percent', value: 5 }])).toEqual({ kind: 'percent', value: 5 });
    // A rule without a tolerance asks for exactness; so do mixed kinds with nothing to compare on.
    expect(strictestDrift([{ kind: 'percent', value: 10 }, undefined], [100])).toEqual({ kind: 'exact' });
    expect(strictestDrift([{ kind: 'percent', value: 10 }, { kind: 'absolute', value: 2 }], [])).toEqual({ kind: 'exact' });
    expect(strictestDrift([])).toEqual({ kind: 'exact' });
  });
});
