import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../e2e/harness.js';
import type { WireEnv } from './pgwire-harness.js';
import { pgClient, startWireEnv } from './pgwire-harness.js';

let env: WireEnv;
// The next token, in the server's environment from the start (a reload reads the config with it).
const fresh = `cs_${randomBytes(24).toString('base64url')}`;
beforeAll(async () => {
  process.env.T_AGENT_NEXT = fresh;
  env = await startWireEnv();
}, 120_000);
afterAll(async () => {
  await env?.close();
});

async function loginCode(user: string, password: string): Promise<string> {
  const c = pgClient(env, user, password);
  try {
    await c.connect();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe('the wire gateway follows a config reload', () => {
  it('a rotated agent token stops logging in over the wire at once, and the new one logs in', async () => {
    const old = env.ws.tokens.agent;
    expect(await loginCode('deploy-bot', old)).toBe('ok');
    const text = readFileSync(env.ws.configPath, 'utf8').replace('{ id: deploy-bot, token: "${T_AGENT}",', '{ id: deploy-bot, token: "${T_AGENT_NEXT}",');
    writeFileSync(env.ws.configPath, text);
    const r = await runCli(['reload', '--pid', String(env.server.child.pid), '--config', env.ws.configPath], env.ws.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await loginCode('deploy-bot', old)).toBe('28P01');
    expect(await loginCode('deploy-bot', fresh)).toBe('ok');
  }, 60_000);
});
