import { describe, expect, it } from 'vitest';
import { createHttpExecutor } from '../../src/adapters/executors/http-executor.js';
import { parseConfigText } from '../../src/config/load.js';
import type { Config, HttpTargetConfig } from '../../src/config/schema.js';
import { createRedactor } from '../../src/domain/redact-secrets.js';
import { runningAction } from './action-fixture.js';

const TOKEN = 'ghp_Zx81Qw73Lk55Pj20';
const config = `
agents:
  - { id: bot, token: "\${AGENT_TOKEN}", owner: alice@example.com }
humans:
  - { id: alice@example.com, groups: [ops] }
targets:
  api: { kind: http, baseUrl: "\${API_URL}", headers: { Authorization: "Bearer \${API_TOKEN}" } }
redaction: { window: 8 }
`;
const env = { AGENT_TOKEN: 'agent-token-0123456789', API_URL: 'https://api.example.com/v1', API_TOKEN: TOKEN };

describe('the config redactor in the HTTP executor', () => {
  const loaded = parseConfigText(config, '/etc/countersign/countersign.yaml', env);

  it('lists tokens and credential parts as credentials, and a URL from the environment only as a whole secret', () => {
    expect(loaded.credentials).toEqual(expect.arrayContaining([TOKEN, 'agent-token-0123456789']));
    expect(loaded.credentials).not.toContain('https://api.example.com/v1');
    expect(loaded.credentials).not.toContain(`Bearer ${TOKEN}`);
    expect(loaded.secrets).toEqual(expect.arrayContaining(['https://api.example.com/v1', `Bearer ${TOKEN}`, TOKEN]));
  });

  it('redacts a credential echoed hex-encoded or cut short, but not the scheme, nor runs of an environment URL', async () => {
    const redactor = createRedactor(loaded.secrets, { window: loaded.config.redaction.window, credentials: loaded.credentials });
    const body = `next: https://api.example.com/v2 auth: Bearer token ${Buffer.from(TOKEN).toString('hex')} ${TOKEN.slice(0, -1)} https://api.example.com/v1`;
    const fakeFetch = (() => Promise.resolve(new Response(body, { headers: { 'content-type': 'text/plain' } }))) as typeof fetch;
    const exec = createHttpExecutor({ targets: { api: httpTarget(loaded.config.targets.api) }, redactor, fetch: fakeFetch });
    const r = await exec.execute(runningAction({ target: 'api', input: { method: 'GET', path: '/x' } }));
    expect(r.body).toBe('next: https://api.example.com/v2 auth: Bearer token [REDACTED] [REDACTED] [REDACTED]');
  });
});

function httpTarget(t: Config['targets'][string] | undefined): HttpTargetConfig {
  if (t?.kind !== 'http') throw new Error('the test config names an http target "api"');
  return t;
}
