import { describe, expect, it } from 'vitest';
import { raw, runCli, useServer } from './harness.js';

// Hook inputs shaped as Claude Code's hooks reference documents them for PreToolUse.
const common = {
  session_id: 'abc123',
  transcript_path: '/Users/dev/.claude/projects/my-project/00893aaf-19fa-41d2-8238-13269b9b3ca0.jsonl',
  cwd: '/Users/dev/my-project',
  permission_mode: 'default',
  hook_event_name: 'PreToolUse',
};
const bash = (command: string, description = 'Run a command') => ({
  ...common,
  tool_name: 'Bash',
  tool_input: { command, description, timeout: 120000 },
  tool_use_id: 'toolu_01ABC123',
});
const write = (file_path: string) => ({ ...common, tool_name: 'Write', tool_input: { file_path, content: 'SECRET=1\n' }, tool_use_id: 'toolu_01DEF456' });

const POLICY = `
default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: tests
    match: { kind: tool, target: claude-code }
    when: tool.name == "Bash" && tool.command.startsWith("npm test")
    outcome: allow
  - id: no-recursive-deletes
    match: { kind: tool }
    when: tool.name == "Bash" && tool.command.contains("rm -rf")
    outcome: deny
    reason: Recursive deletes are never run by agents
  - id: env-files
    match: { kind: tool }
    when: tool.paths.exists(p, p.endsWith(".env"))
    outcome: review
    review: { approvers: [group:oncall], quorum: 1, timeout: 15m }
`;

type HookOutput = { hookSpecificOutput: { hookEventName: string; permissionDecision: string; permissionDecisionReason: string } };

describe('Claude Code PreToolUse', () => {
  const ctx = useServer({ policy: POLICY, extraConfig: 'integrations: { claudeCode: { wait: 1s } }\n' });
  const post = (body: unknown, token = ctx.ws.tokens.agent) =>
    raw(ctx.server.url, '/integrations/claude-code/pre-tool-use', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const decision = (b: unknown) => (b as HookOutput).hookSpecificOutput;

  it('allows a Bash command that policy allows, as a decide-mode tool action with the command as a fact', async () => {
    const r = await post(bash('npm test -- --run'));
    expect(r.status).toBe(200);
    expect(decision(r.body)).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'allow' });
    const [a] = (await ctx.server.client(ctx.ws.tokens.agent).list({ limit: 1 })).actions;
    expect(a).toMatchObject({ kind: 'tool', target: 'claude-code', mode: 'decide', status: 'approved', input: { tool: 'Bash', input: { command: 'npm test -- --run', timeout: 120000 } } });
    expect(a!.justification).toBe('Run a command');
  });

  it('denies what policy denies, naming the rule and its reason', async () => {
    const r = await post(bash('rm -rf /'));
    expect(decision(r.body).permissionDecision).toBe('deny');
    expect(decision(r.body).permissionDecisionReason).toContain('no-recursive-deletes');
    expect(decision(r.body).permissionDecisionReason).toContain('Recursive deletes are never run by agents');
  });

  it('denies while a review is pending, then allows the same tool use once approved, once', async () => {
    const first = await post(write('/Users/dev/my-project/.env'));
    expect(decision(first.body).permissionDecision).toBe('deny');
    expect(decision(first.body).permissionDecisionReason).toMatch(/^Approval pending/);
    const id = /action (act_[0-9a-f]+)/.exec(decision(first.body).permissionDecisionReason)![1]!;
    const bob = ctx.server.client(ctx.ws.tokens.bob);
    await bob.approve(id, (await bob.get(id)).fingerprint);
    const second = await post(write('/Users/dev/my-project/.env'));
    expect(decision(second.body).permissionDecision).toBe('allow');
    expect(decision(second.body).permissionDecisionReason).toContain('Approved by bob@example.com');
    const third = await post(write('/Users/dev/my-project/.env'));
    expect(decision(third.body).permissionDecisionReason).toMatch(/^Approval pending/);
    expect(decision(third.body).permissionDecisionReason).not.toContain(id);
  });

  it('answers deny, never an error Claude Code would let through, for bad credentials and bad input; nothing is created', async () => {
    const before = (await ctx.server.client(ctx.ws.tokens.agent).list({ limit: 100 })).actions.length;
    for (const [body, token, code] of [
      [bash('npm test'), 'not-a-valid-token-at-all', 'UNAUTHENTICATED'],
      [{ ...common, tool_input: {} }, ctx.ws.tokens.agent, 'VALIDATION_FAILED'],
      [{ ...common, tool_name: 'Bash', tool_input: 'ls' }, ctx.ws.tokens.agent, 'VALIDATION_FAILED'],
      [{ ...bash('npm test'), hook_event_name: 'PostToolUse' }, ctx.ws.tokens.agent, 'VALIDATION_FAILED'],
    ] as const) {
      const r = await post(body, token);
      expect(r.status).toBe(200);
      expect(decision(r.body).permissionDecision).toBe('deny');
      expect(decision(r.body).permissionDecisionReason).toContain(code);
    }
    expect((await ctx.server.client(ctx.ws.tokens.agent).list({ limit: 100 })).actions.length).toBe(before);
  });

  it('the command hook prints the decision, and denies when the gateway cannot be reached or answers nothing in time', async () => {
    const env = { COUNTERSIGN_URL: ctx.server.url, COUNTERSIGN_TOKEN: ctx.ws.tokens.agent };
    const ok = await runCli(['hook', 'claude-code'], env, JSON.stringify(bash('npm test')));
    expect(ok.code).toBe(0);
    expect(decision(JSON.parse(ok.stdout)).permissionDecision).toBe('allow');

    const unreachable = await runCli(['hook', 'claude-code', '--url', 'http://127.0.0.1:1'], env, JSON.stringify(bash('npm test')));
    expect(unreachable.code).toBe(0);
    expect(decision(JSON.parse(unreachable.stdout))).toMatchObject({ permissionDecision: 'deny' });

    // The review holds for 1s; a 0.2s hook time-out denies.
    const slow = await runCli(['hook', 'claude-code', '--timeout', '0.2'], env, JSON.stringify(write('/tmp/x/.env')));
    expect(decision(JSON.parse(slow.stdout)).permissionDecision).toBe('deny');
    expect(decision(JSON.parse(slow.stdout)).permissionDecisionReason).toContain('never allows');

    const noToken = await runCli(['hook', 'claude-code'], { COUNTERSIGN_URL: ctx.server.url, COUNTERSIGN_TOKEN: '' }, JSON.stringify(bash('npm test')));
    expect(decision(JSON.parse(noToken.stdout)).permissionDecision).toBe('deny');
  });
});
