import { describe, expect, it } from 'vitest';
import type { Decision } from './policy-types.js';
import { tightenDecision } from './decision-extras.js';

const decision = (outcome: Decision['outcome']): Decision => ({ outcome, rules: ['r1'], policyVersion: 'v', reason: 'why', requirements: [] });
const changed = { reviewIfAllowed: { ruleId: 'mcp-tool-changed', reason: 'changed', approvers: ['group:security' as const], quorum: 1, timeoutMs: 1000 } };

describe('tightenDecision: a changed MCP tool', () => {
  it('turns an allow into the configured review, naming both rules', () => {
    expect(tightenDecision(decision('allow'), changed)).toEqual({
      outcome: 'review',
      rules: ['r1', 'mcp-tool-changed'],
      policyVersion: 'v',
      reason: 'changed',
      requirements: [{ ruleId: 'mcp-tool-changed', approvers: ['group:security'], quorum: 1, timeoutMs: 1000 }],
    });
  });

  it('never loosens: deny and review stand, and nothing changes without extras', () => {
    expect(tightenDecision(decision('deny'), changed)).toEqual(decision('deny'));
    expect(tightenDecision(decision('review'), changed)).toEqual(decision('review'));
    expect(tightenDecision(decision('allow'), undefined)).toEqual(decision('allow'));
    expect(tightenDecision(decision('allow'), { hints: { annotations: { readOnlyHint: true } } })).toEqual(decision('allow'));
  });
});
