import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { raw, runCli, until, useServer } from './harness.js';

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
    expect(a).toMatchObject({ kind: 'tool', target: 'claude-code', mode: 'decide', status: 'approved', input: { tool: 'Bash', input: { command: 'npm test -- --run', timeout: 120000 }, cwd: '/Users/dev/my-project' } });
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

    // The review holds for 1s; a hook with a shorter time-out asks the gateway not to hold
    // past it, and its deny names the action and how to approve it.
    const slow = await runCli(['hook', 'claude-code', '--timeout', '0.2'], env, JSON.stringify(write('/tmp/x/.env')));
    const d = decision(JSON.parse(slow.stdout));
    expect(d.permissionDecision).toBe('deny');
    const id = /Countersign action (act_\w+)/.exec(d.permissionDecisionReason)?.[1];
    expect(id).toBeDefined();
    expect(d.permissionDecisionReason).toContain(`countersign approve ${id}`);
    expect((await ctx.server.client(ctx.ws.tokens.agent).get(id!)).status).toBe('pending');

    // A gateway that does not answer in time: the hook still denies, and says where the action waits.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as AddressInfo).port;
      const hung = await runCli(['hook', 'claude-code', '--timeout', '0.3', '--url', `http://127.0.0.1:${port}`], env, JSON.stringify(bash('npm test')));
      const h = decision(JSON.parse(hung.stdout));
      expect(h.permissionDecision).toBe('deny');
      expect(h.permissionDecisionReason).toContain('never allows');
      expect(h.permissionDecisionReason).toContain('countersign pending');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }

    const noToken = await runCli(['hook', 'claude-code'], { COUNTERSIGN_URL: ctx.server.url, COUNTERSIGN_TOKEN: '' }, JSON.stringify(bash('npm test')));
    expect(decision(JSON.parse(noToken.stdout)).permissionDecision).toBe('deny');
  });
});

describe('Claude Code PreToolUse, held while reviewers decide', () => {
  const ctx = useServer({ policy: POLICY, extraConfig: 'integrations: { claudeCode: { wait: 30s } }\n' });
  const post = (body: unknown, signal?: AbortSignal) =>
    raw(ctx.server.url, '/integrations/claude-code/pre-tool-use', { method: 'POST', token: ctx.ws.tokens.agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
  const decision = (b: unknown) => (b as HookOutput).hookSpecificOutput;
  /** The pending action for a file, once the held call has submitted it. */
  const pendingFor = async (file: string) => {
    const page = await until(
      () => ctx.server.client(ctx.ws.tokens.bob).list({ status: ['pending'] }),
      (p) => p.actions.some((a) => JSON.stringify(a.input).includes(file)),
    );
    return page.actions.find((a) => JSON.stringify(a.input).includes(file))!;
  };

  it('allows in the same call when a reviewer approves during the hold', async () => {
    const held = post(write('/Users/dev/my-project/held.env'));
    const a = await pendingFor('held.env');
    await ctx.server.client(ctx.ws.tokens.bob).approve(a.id, a.fingerprint);
    const r = await held;
    expect(decision(r.body)).toMatchObject({ permissionDecision: 'allow' });
    expect(decision(r.body).permissionDecisionReason).toContain(`Approved by bob@example.com. Countersign action ${a.id}`);
  });

  it('keeps the outcome for the retry when the hook hangs up while held: reviewers do not approve twice', async () => {
    const ac = new AbortController();
    const held = post(write('/Users/dev/my-project/gone.env'), ac.signal).catch((e: unknown) => e);
    const a = await pendingFor('gone.env');
    ac.abort();
    expect(await held).toBeInstanceOf(Error);
    // Let the gateway see the hang-up before the approval lands.
    await new Promise((r) => setTimeout(r, 300));
    await ctx.server.client(ctx.ws.tokens.bob).approve(a.id, a.fingerprint);
    const retry = await post(write('/Users/dev/my-project/gone.env'));
    expect(decision(retry.body).permissionDecision).toBe('allow');
    expect(decision(retry.body).permissionDecisionReason).toContain(a.id);
    // The same tool use from another directory is another action, under review of its own.
    const ac2 = new AbortController();
    const elsewhere = post({ ...write('/Users/dev/my-project/gone.env'), cwd: '/Users/dev/other' }, ac2.signal).catch((e: unknown) => e);
    const other = await until(
      () => ctx.server.client(ctx.ws.tokens.bob).list({ status: ['pending'] }),
      (p) => p.actions.some((x) => (x.input as { cwd?: string }).cwd === '/Users/dev/other'),
    );
    expect(other.actions.find((x) => (x.input as { cwd?: string }).cwd === '/Users/dev/other')!.id).not.toBe(a.id);
    ac2.abort();
    await elsewhere;
  });
});
