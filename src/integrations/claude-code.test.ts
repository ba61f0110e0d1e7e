import { describe, expect, it } from 'vitest';
import { createAction } from '../domain/lifecycle.js';
import type { Decision } from '../domain/policy-types.js';
import { actionFromHook, hookOutputOf } from './claude-code.js';

const hook = {
  session_id: 'abc123',
  cwd: '/Users/dev/my-project',
  permission_mode: 'default',
  hook_event_name: 'PreToolUse',
  tool_name: 'Bash',
  tool_input: { command: 'npm test', description: 'Run the test suite', timeout: 120000 },
  tool_use_id: 'toolu_01ABC123',
};

describe('Claude Code PreToolUse mapping', () => {
  it('is a decide-mode tool action; a Bash description is the justification, not part of the fingerprinted input; the directory is', () => {
    const a = actionFromHook(hook, 'claude-code');
    expect(a).toEqual({
      kind: 'tool',
      target: 'claude-code',
      input: { tool: 'Bash', input: { command: 'npm test', timeout: 120000 }, cwd: '/Users/dev/my-project' },
      mode: 'decide',
      justification: 'Run the test suite',
      context: { claudeCode: { sessionId: 'abc123', permissionMode: 'default', toolUseId: 'toolu_01ABC123' } },
    });
    // The same command in another project is another action.
    expect(actionFromHook({ ...hook, cwd: '/Users/dev/other' }, 'claude-code').input).not.toEqual(a.input);
    expect(actionFromHook({ ...hook, tool_input: { ...hook.tool_input, description: 'other words' } }, 'claude-code').input).toEqual(a.input);
    // Other tools keep every key: a Task description is what the task does.
    expect(actionFromHook({ ...hook, tool_name: 'Task', tool_input: { description: 'x', prompt: 'y' } }, 'cc').input).toEqual({ tool: 'Task', input: { description: 'x', prompt: 'y' }, cwd: '/Users/dev/my-project' });
  });

  const action = (outcome: Decision['outcome']) =>
    createAction({
      id: 'act_1',
      request: actionFromHook(hook, 'claude-code'),
      requester: { id: 'bot', type: 'agent', owner: 'o@example.com' },
      decision: { outcome, rules: ['r1'], policyVersion: 'v', reason: 'because', requirements: outcome === 'review' ? [{ ruleId: 'r1', approvers: ['group:x'], quorum: 1, timeoutMs: 1000 }] : [] },
      now: new Date('2030-01-01T00:00:00Z'),
    }).next;

  it('only an approval allows; pending denies (or asks, if configured); denials name the rule and reason', () => {
    expect(hookOutputOf({ state: 'settled', action: action('allow') }, 'L', 'deny').hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'allow' });
    const denied = hookOutputOf({ state: 'settled', action: action('deny') }, 'L', 'deny').hookSpecificOutput;
    expect(denied.permissionDecision).toBe('deny');
    expect(denied.permissionDecisionReason).toContain('Denied by policy (rule r1): because');
    expect(hookOutputOf({ state: 'pending', action: action('review') }, 'L', 'deny').hookSpecificOutput.permissionDecision).toBe('deny');
    expect(hookOutputOf({ state: 'pending', action: action('review') }, 'L', 'ask').hookSpecificOutput.permissionDecision).toBe('ask');
    const expired = { ...action('review'), status: 'expired' as const };
    expect(hookOutputOf({ state: 'settled', action: expired }, 'L', 'ask').hookSpecificOutput.permissionDecision).toBe('deny');
  });
});
