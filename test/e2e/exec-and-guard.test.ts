import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CountersignNotApprovedError, isCountersignError } from '../../src/client/index.js';
import { runCli, until, useServer } from './harness.js';

const POLICY = `
default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 2s } }
rules:
  - id: reads
    match: { kind: tool, target: ci }
    when: tool.command.startsWith("echo ")
    outcome: allow
  - id: exit-codes
    match: { kind: tool, target: ci }
    when: tool.command.endsWith(" allowed-exit")
    outcome: allow
  - id: no-destroy
    match: { kind: tool, target: ci }
    when: has(tool.command) && tool.command.contains("destroy")
    outcome: deny
    reason: Nothing is destroyed from CI
`;

describe('countersign exec and the SDK guard (decide mode)', () => {
  const ctx = useServer({ policy: POLICY, extraConfig: 'tools: { ci: {} }\n' });
  const env = () => ({ COUNTERSIGN_URL: ctx.server.url, COUNTERSIGN_TOKEN: ctx.ws.tokens.agent });

  it('runs an allowed command and exits with its code', async () => {
    const ok = await runCli(['exec', '--target', 'ci', '--', 'echo', 'hello world'], env());
    expect(ok.stdout).toBe('hello world\n');
    expect(ok.code).toBe(0);
    const failing = await runCli(['exec', '--target', 'ci', '--', process.execPath, '-e', 'process.exit(7)', 'allowed-exit'], env());
    expect(failing.code).toBe(7);
  });

  it('never runs a denied command: exit 77 with the reason', async () => {
    const marker = join(ctx.ws.dir, 'destroyed');
    const r = await runCli(['exec', '--target', 'ci', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`, 'destroy'], env());
    expect(r.code).toBe(77);
    expect(r.stderr).toContain('Nothing is destroyed from CI');
    expect(existsSync(marker)).toBe(false);
  });

  it('waits for a reviewer, runs once approved; exits 75 when the request expires', async () => {
    const marker = join(ctx.ws.dir, 'deployed');
    const run = runCli(['exec', '--target', 'ci', '-m', 'ship it', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`], env());
    const bob = ctx.server.client(ctx.ws.tokens.bob);
    // The CLI is a process of its own: wait for its submission however slow it is to start.
    const pending = (await until(() => bob.list({ status: ['pending'] }), (l) => l.actions.length > 0, 20_000)).actions;
    expect(pending[0]).toMatchObject({ kind: 'tool', target: 'ci', mode: 'decide', justification: 'ship it' });
    await bob.approve(pending[0]!.id, pending[0]!.fingerprint);
    expect((await run).code).toBe(0);
    expect(existsSync(marker)).toBe(true);

    const expired = await runCli(['exec', '--target', 'ci', '--', process.execPath, '-e', '1'], env());
    expect(expired.code).toBe(75);
  });

  it('exits 69 when the gateway refuses the request (unknown target) and 2 without a token', async () => {
    expect((await runCli(['exec', '--target', 'nope', '--', 'echo', 'x'], env())).code).toBe(69);
    expect((await runCli(['exec', '--target', 'ci', '--', 'echo', 'x'], { COUNTERSIGN_URL: ctx.server.url, COUNTERSIGN_TOKEN: '' })).code).toBe(2);
  });

  it('guard runs the function only after approval, and throws a typed error when denied', async () => {
    const client = ctx.server.client(ctx.ws.tokens.agent);
    const calls: string[] = [];
    const shell = client.guard(async (command: string) => (calls.push(command), `ran ${command}`), { kind: 'tool', target: 'ci', input: (command) => ({ tool: 'shell', input: { command } }) });
    expect(await shell('echo hi')).toBe('ran echo hi');
    const denied = await shell('terraform destroy').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(CountersignNotApprovedError);
    expect(isCountersignError(denied, 'DENIED')).toBe(true);
    expect((denied as CountersignNotApprovedError).message).toContain('no-destroy');
    expect(calls).toEqual(['echo hi']);

    // Abortable: a wait given a signal stops when it fires.
    const ac = new AbortController();
    const waiting = client.guard(async () => calls.push('never'), { kind: 'tool', target: 'ci', name: 'deploy', wait: { signal: ac.signal } })();
    setTimeout(() => ac.abort(new Error('stopped by the caller')), 200);
    await expect(waiting).rejects.toThrow('stopped by the caller');
    expect(calls).toEqual(['echo hi']);

    const bad = await client.submit({ kind: 'tool', target: 'ci', input: { tool: 'x', extra: 1 }, mode: 'decide' }).catch((e: unknown) => e);
    expect(isCountersignError(bad, 'VALIDATION_FAILED')).toBe(true);
  });
});
