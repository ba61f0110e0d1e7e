import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configText, raw, runCli, useServer } from './harness.js';

const ctx = useServer();
const newToken = randomBytes(18).toString('hex');
const newHash = `sha256:${createHash('sha256').update(newToken).digest('hex')}`;
const reload = () => runCli(['reload', '--pid', String(ctx.server.child.pid), '--config', ctx.ws.configPath], ctx.ws.env);
const status = async (token: string) => (await raw(ctx.server.url, '/v1/actions?limit=1', { token })).status;
const submit = (token: string, target: string) =>
  raw(ctx.server.url, '/v1/actions', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'http', target, input: { method: 'GET', path: '/x' } }) });
const configEntries = async () => {
  const r = await runCli(['audit', 'tail', '--db', join(ctx.ws.dir, 'countersign.db'), '-n', '200', '--json']);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> })
    .filter((e) => e.type.startsWith('config.'));
};

describe('reloading the config of a running gateway', () => {
  it('swaps agents, humans, tokens and targets without a restart, and records it', async () => {
    expect(await status(ctx.ws.tokens.eve)).toBe(200);
    expect(await status(newToken)).toBe(401);
    expect((await submit(ctx.ws.tokens.agent, 'newapi')).status).toBe(404);
    const text = configText(ctx.target.url)
      .replace(/ {2}- \{ id: eve@example\.com.*\n/, '')
      .replace('agents:\n', `agents:\n  - { id: new-bot, tokenHash: "${newHash}", owner: alice@example.com }\n`)
      .replace('targets:\n', `targets:\n  newapi: { kind: http, baseUrl: "${ctx.target.url}/new" }\n`);
    writeFileSync(ctx.ws.configPath, text);

    const r = await reload();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('reloaded: agents, humans, targets');
    expect(await status(ctx.ws.tokens.eve)).toBe(401);
    expect(await status(newToken)).toBe(200);
    expect((await submit(newToken, 'newapi')).status).toBe(201);
    expect((await configEntries()).at(-1)).toMatchObject({ type: 'config.loaded', data: { trigger: 'sighup', changed: ['agents', 'humans', 'targets'], agents: 3 } });
  });

  it('refuses a bad config, keeps the running one, and records the refusal', async () => {
    const good = readFileSync(ctx.ws.configPath, 'utf8');
    writeFileSync(ctx.ws.configPath, good.replace('owner: alice@example.com', 'owner: nobody@example.com'));
    const r = await reload();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('reload refused; the running config is kept');
    expect(r.stderr).toContain('nobody@example.com');
    expect(await status(newToken)).toBe(200);
    expect(await status(ctx.ws.tokens.eve)).toBe(401);
    expect((await configEntries()).at(-1)).toMatchObject({ type: 'config.rejected', data: { trigger: 'sighup' } });
    writeFileSync(ctx.ws.configPath, good);
  });

  it('refuses a change only a restart applies, naming the section', async () => {
    const good = readFileSync(ctx.ws.configPath, 'utf8');
    writeFileSync(ctx.ws.configPath, good.replace('scheduler: { intervalMs: 100 }', 'scheduler: { intervalMs: 200 }'));
    const r = await reload();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('only apply on a restart: scheduler');
    expect(await status(newToken)).toBe(200);
    writeFileSync(ctx.ws.configPath, good);
  });

  it('a policy naming a group that only the new config has is checked against the new config', async () => {
    const good = readFileSync(ctx.ws.configPath, 'utf8');
    const policy = readFileSync(ctx.ws.policyPath, 'utf8');
    writeFileSync(ctx.ws.policyPath, `${policy}  - id: sre-only\n    match: { kind: http, target: newapi }\n    outcome: review\n    review: { approvers: [group:sre], timeout: 1h }\n`);
    // Without the group, the whole reload is refused (the policy file watcher may also reject it on its own).
    const refused = await reload();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('unknown group "sre"');
    writeFileSync(ctx.ws.configPath, good.replace('groups: [release], token: "${T_ALICE}"', 'groups: [release, sre], token: "${T_ALICE}"'));
    const ok = await reload();
    expect(ok.code).toBe(0);
    const a = await submit(newToken, 'newapi');
    expect(a.body).toMatchObject({ status: 'pending', decision: { rules: ['sre-only'] } });
  });
});
