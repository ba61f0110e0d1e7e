import { describe, expect, it } from 'vitest';
import type { ParsedEntry } from './audit-governance.js';
import { GovernanceChecker } from './audit-governance.js';
import { absorbRange, GovernanceRangeChecker } from './audit-governance-range.js';

const POLICY = `sha256:${'5'.repeat(64)}`;
const FP = `sha256:${'a'.repeat(64)}`;
const ts = '2030-01-01T00:00:00.000Z';
const system = { type: 'system', id: 'countersign' } as const;
const loaded = (seq: number): ParsedEntry => ({ seq, ts, type: 'policy.loaded', data: { version: POLICY } });
const submitted = (seq: number, id: string): ParsedEntry => ({ seq, ts, type: 'action.submitted', actionId: id, actor: { type: 'agent', id: 'bot' }, data: { fingerprint: FP, mode: 'execute', requester: { id: 'bot' } } });
const decided = (seq: number, id: string): ParsedEntry => ({ seq, ts, type: 'action.decided', actionId: id, actor: system, data: { fingerprint: FP, outcome: 'allow', policyVersion: POLICY } });
const started = (seq: number, id: string): ParsedEntry => ({ seq, ts, type: 'execution.started', actionId: id, actor: system, data: { fingerprint: FP } });

/** A log of entries checked in one pass, and split at `at` into a checker and a range checker joined. */
function both(entries: ParsedEntry[], at: number, maxCarried?: number): { one: GovernanceChecker; two: GovernanceChecker; joined: boolean } {
  const one = new GovernanceChecker();
  for (const e of entries) one.add(e);
  const two = new GovernanceChecker();
  const range = new GovernanceRangeChecker(1000, maxCarried);
  for (const e of entries) (e.seq < at ? two : range).add(e);
  return { one, two, joined: absorbRange(two, range.part()) };
}

describe('governance of a later range checked apart, then joined', () => {
  it('an action begun before the split and run twice after it: the same finding as one pass', () => {
    const log = [loaded(0), submitted(1, 'a'), decided(2, 'a'), started(3, 'a'), started(4, 'a')];
    for (const at of [1, 2, 3, 4]) {
      const { one, two, joined } = both(log, at);
      expect(joined).toBe(true);
      expect(two.findings).toEqual(one.findings);
      expect(two.findings.map((f) => f.check)).toEqual(['executed-twice']);
      expect(two.stats).toEqual(one.stats);
    }
  });

  it('a decision in the later range naming the policy loaded in the earlier one is no violation; one loaded only after it is', () => {
    const fine = both([loaded(0), submitted(1, 'a'), decided(2, 'a')], 1);
    expect(fine.two.violations).toBe(0);
    const late = both([submitted(0, 'a'), decided(1, 'a'), loaded(2)], 1);
    expect(late.two.findings).toEqual(late.one.findings);
    expect(late.two.findings.map((f) => f.check)).toEqual(['unknown-policy-version']);
  });

  it('an action begun anew in the later range, or more entries set aside than kept: not joined (the caller checks in one pass)', () => {
    expect(both([loaded(0), submitted(1, 'a'), decided(2, 'a'), started(3, 'a'), submitted(4, 'a')], 4).joined).toBe(false);
    const many = [loaded(0), submitted(1, 'a'), decided(2, 'a'), started(3, 'a'), started(4, 'a'), started(5, 'a')];
    expect(both(many, 3, 2).joined).toBe(false);
    expect(both(many, 3, 3).joined).toBe(true);
  });
});
