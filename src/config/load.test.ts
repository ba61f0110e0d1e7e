import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReferenceMarkdown } from './config-docs.js';
import { ConfigError, parseConfigText } from './load.js';

const good = `
listen: 127.0.0.1:8080
publicUrl: http://localhost:8080
store: { sqlite: ./data/countersign.db }
policy: ./policy.yaml
agents:
  - { id: deploy-bot, token: "\${DEPLOY_BOT_TOKEN}", owner: alice@example.com }
humans:
  - { id: alice@example.com, groups: [release], token: "\${ALICE_TOKEN}" }
  - { id: bob@example.com, groups: [release, oncall], tokenHash: "sha256:${'a'.repeat(64)}" }
oidc: { issuer: https://idp.example.com, audience: countersign, groupsClaim: groups }
targets:
  github: { kind: http, baseUrl: https://api.github.com, headers: { Authorization: "Bearer \${GITHUB_TOKEN}", Accept: application/json } }
`;
const env = { DEPLOY_BOT_TOKEN: 'agent-token-0123456789', ALICE_TOKEN: 'alice-token-0123456789', GITHUB_TOKEN: 'ghp_secret_value_123' };

function issues(text: string, e: NodeJS.ProcessEnv = env) {
  try {
    parseConfigText(text, '/etc/countersign/countersign.yaml', e);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a config error');
}

describe('configuration', () => {
  it('accepts the documented shape, interpolates the environment and resolves paths against the file', () => {
    const c = parseConfigText(good, '/etc/countersign/countersign.yaml', env);
    expect(c.config.agents[0]?.token).toBe('agent-token-0123456789');
    const github = c.config.targets.github;
    expect(github?.kind === 'http' && github.headers.Authorization).toBe('Bearer ghp_secret_value_123');
    expect(c.storePath).toBe('/etc/countersign/data/countersign.db');
    expect(c.policyPath).toBe('/etc/countersign/policy.yaml');
  });

  it('lists every secret value for redaction, but not ordinary header values', () => {
    const c = parseConfigText(good, '/x/c.yaml', env);
    expect(c.secrets).toEqual(expect.arrayContaining(['ghp_secret_value_123', 'Bearer ghp_secret_value_123', 'agent-token-0123456789', 'alice-token-0123456789']));
    expect(c.secrets).not.toContain('application/json');
  });

  it('treats every injected header as a credential unless it is a public header', () => {
    const c = parseConfigText(good.replace('Accept: application/json }', 'Accept: application/json, X-Goog-Api-Key: literal-key-0123 }'), '/x/c.yaml', env);
    expect(c.secrets).toContain('literal-key-0123');
    expect(c.secrets).not.toContain('application/json');
  });

  it('refuses a credential header too short to be redacted', () => {
    const [i] = issues(good.replace('Accept: application/json }', 'Accept: application/json, api-key: abc123 }'));
    expect(i).toMatchObject({ path: 'targets.github.headers.api-key' });
    expect(i?.message).toContain('cannot be redacted');
    const [m] = issues(`${good}mcp:\n  servers:\n    remote: { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer abc" } }\n`);
    expect(m).toMatchObject({ path: 'mcp.servers.remote.headers.Authorization' });
    expect(m?.message).toContain('cannot be redacted');
  });

  it('needs somewhere to post review requests in chat: a channel or conversation, or the approvers directly', () => {
    const teams = (extra: string) =>
      `${good}channels:\n  teams: { appId: 11111111-2222-3333-4444-555555555555, appPassword: "app-password-123", tenantId: 66666666-7777-8888-9999-000000000000, serviceUrl: "https://smba.trafficmanager.net/emea/"${extra} }\n`;
    expect(issues(teams(''))[0]?.message).toContain('give a conversationId, or set notifyApprovers: true');
    expect(parseConfigText(teams(', notifyApprovers: true'), '/x/c.yaml', env).config.channels?.teams).toMatchObject({ notifyApprovers: true });
    expect(parseConfigText(teams(', conversationId: "19:abc@thread.tacv2"'), '/x/c.yaml', env).config.channels?.teams).toMatchObject({ notifyApprovers: false });
    const slack = `${good}channels:\n  slack: { botToken: "xoxb-123456789012", signingSecret: "0123456789abcdef0123", teamId: T0123ABCD }\n`;
    expect(issues(slack)[0]?.message).toContain('give a channel, or set notifyApprovers: true');
  });

  it('names the file, line and path of an unknown key', () => {
    const [i] = issues(good.replace('policy: ./policy.yaml', 'policy: ./policy.yaml\npolcy: typo'));
    expect(i).toMatchObject({ file: '/etc/countersign/countersign.yaml', line: 6, path: 'polcy' });
    expect(i?.message).toContain('unknown key');
  });

  it('names the path of a bad nested value', () => {
    const [i] = issues(good.replace('tokenHash: "sha256:', 'tokenHash: "md5:'));
    expect(i).toMatchObject({ line: 10, path: 'humans[1].tokenHash' });
  });

  it('fails on an unset environment variable, with its name and path', () => {
    const [i] = issues(good, { ...env, GITHUB_TOKEN: undefined });
    expect(i?.message).toContain('GITHUB_TOKEN');
    expect(i?.path).toBe('targets.github.headers.Authorization');
  });

  it('refuses an agent with both or neither of token and tokenHash', () => {
    expect(issues(good.replace('owner: alice@example.com }', `owner: alice@example.com, tokenHash: "sha256:${'b'.repeat(64)}" }`))[0]?.path).toBe('agents[0]');
  });

  it('refuses short tokens and non-http base URLs', () => {
    expect(issues(good, { ...env, ALICE_TOKEN: 'short' })[0]?.path).toBe('humans[0].token');
    expect(issues(good.replace('https://api.github.com', 'file:///etc/passwd'))[0]?.path).toBe('targets.github.baseUrl');
  });

  it('refuses identity clashes that would weaken separation of duties', () => {
    const noOidc = good.replace(/^oidc:.*\n/m, '');
    expect(issues(noOidc.replace('owner: alice@example.com', 'owner: carol'))[0]).toMatchObject({ path: 'agents[0].owner' });
    expect(issues(good.replace('id: bob@example.com', 'id: ALICE@example.com'))[0]?.message).toContain('duplicate human id');
    expect(issues(good.replace('id: bob@example.com', 'id: deploy-bot'))[0]?.message).toContain('also an agent id');
    expect(issues(good.replace('id: bob@example.com', 'id: b\u00f6b@example.com'))[0]?.path).toBe('humans[1].id');
  });

  it('reports YAML syntax errors with their line', () => {
    const [i] = issues('listen: [oops\n');
    expect(i?.line).toBeGreaterThanOrEqual(1);
  });

  it('docs/configuration.md is generated from this schema (run npm run docs:config)', () => {
    expect(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')).toBe(configReferenceMarkdown());
  });
});
