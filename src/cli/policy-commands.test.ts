import { Command } from 'commander';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from './cli-runtime.js';
import { registerPolicyCommands } from './policy-commands.js';

const EXAMPLE_POLICY = join(import.meta.dirname, '../../examples/policy.yaml');
const EXAMPLE_CASES = join(import.meta.dirname, '../../examples/policy-cases.yaml');

let dir: string;
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** Runs `countersign <args>` in-process, as main.ts wires it, capturing output and the exit code. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  process.exitCode = undefined;
  try {
    const program = new Command().name('countersign').showHelpAfterError();
    registerPolicyCommands(program);
    await runCli(program, ['node', 'countersign', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, out, err };
}

const CONFIG = `agents:
  - { id: deploy-bot, token: "\${DEPLOY_BOT_TOKEN_UNSET_IN_TESTS}", owner: alice@example.com, labels: { team: payments } }
  - { id: sandbox-1, tokenHash: "sha256:${'0'.repeat(64)}", owner: bob@example.com }
humans:
  - { id: alice@example.com, groups: [release, oncall] }
  - { id: carol@example.com, groups: [release] }
  - { id: bob@example.com, groups: [] }
groups: [sre]
targets:
  github: { kind: http, baseUrl: "https://api.github.com", labels: { env: prod } }
  gitlab: { kind: http, baseUrl: "https://gitlab.example.com:8443/api" }
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-policy-cli-'));
});
afterEach(() => {
  process.exitCode = undefined;
});

describe('countersign policy check', () => {
  it('prints OK with the version and rule count, and exits 0', async () => {
    const r = await cli('policy', 'check', EXAMPLE_POLICY);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK .*policy\.yaml: 17 rules, version sha256:[0-9a-f]{64}\n$/);
    expect(r.err).toContain('group names were not checked');
  });

  it('prints every issue as file:line:col: message and exits 1', async () => {
    const p = file('bad.yaml', 'rules:\n  - id: a\n    outcome: maybe\n  - id: b\n    match: { kind: http }\n    when: http.method ==\n    outcome: deny\n');
    const r = await cli('policy', 'check', p);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toBe(`${p}:3:14: rules[0].outcome: outcome must be one of allow, review, deny (got "maybe")`);
    expect(lines[1]).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:25: rules\\[1\\]\\.when: CEL: Unexpected token`));
    expect(lines[2]).toBe(`${p}: 2 problems; the policy is invalid`);
    expect(r.err).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
  });

  it('with --config, checks groups against the configured humans and groups', async () => {
    const config = file('config.yaml', CONFIG);
    const p = file('groups.yaml', 'default: { outcome: deny }\nrules:\n  - id: a\n    outcome: review\n    review: { approvers: [group:release, group:ghosts], timeout: 5m }\n');
    const r = await cli('policy', 'check', p, '--config', config);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${p}:5:42: rules[0].review.approvers[1]: unknown group "ghosts"`);
    expect(r.err).not.toContain('"release"');
  });

  it('prints warnings and still exits 0 (an unset ${ENV} in the config does not matter here)', async () => {
    const config = file('config.yaml', CONFIG);
    const r = await cli('policy', 'check', EXAMPLE_POLICY, '--config', config);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK /);
    expect(r.err).toMatch(/warning: .*policy\.yaml:\d+:\d+: rules\[3\]\.review\.quorum: quorum 2 exceeds the 0 configured human\(s\) who may approve \(group:sre has 0\)/);
    expect(r.err).not.toContain('were not checked');
  });

  it('warns, and still exits 0, when a deny rule fails open because it needs an agent-controlled field to be present', async () => {
    const p = file('hasdeny.yaml', 'default: { outcome: allow }\nrules:\n  - id: no-admin\n    match: { kind: http }\n    when: has(http.body.role) && http.body.role == "admin"\n    outcome: deny\n');
    const r = await cli('policy', 'check', p);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`warning: ${p}:5:11: rules[0].when: this deny rule depends on has(http.body.role), a field the agent controls`);
  });

  it('a policy without default passes with a warning', async () => {
    const r = await cli('policy', 'check', file('nodefault.yaml', 'rules: []\n'));
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning: ');
    expect(r.err).toContain('no "default"');
    expect(r.out).toMatch(/0 rules/);
  });

  it('exits 2 on an unreadable file, a bad config, or bad usage', async () => {
    expect((await cli('policy', 'check', join(dir, 'missing.yaml'))).code).toBe(2);
    expect((await cli('policy', 'check', EXAMPLE_POLICY, '--config', file('badconfig.yaml', 'listen: nope\n'))).code).toBe(2);
    const usage = await cli('policy', 'check');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("missing required argument 'file'");
  });
});

describe('countersign policy test', () => {
  it('passes the example cases and exits 0', async () => {
    const r = await cli('policy', 'test', EXAMPLE_POLICY, EXAMPLE_CASES);
    expect(r.code).toBe(0);
    const cases = (readFileSync(EXAMPLE_CASES, 'utf8').match(/^\s+- name:/gm) ?? []).length;
    expect(r.out.match(/^PASS /gm)).toHaveLength(cases);
    expect(r.out).toContain(`${cases} passed, 0 failed (${cases} cases, policy sha256:`);
  });

  it('shows each miss with the difference and exits 1', async () => {
    const cases = file(
      'miss.yaml',
      `cases:
  - name: reads are allowed
    action: { kind: http, target: github, input: { method: GET, path: / } }
    requester: bot
    expect: { outcome: allow }
  - name: wrongly expects deletes to be allowed
    action: { kind: http, target: github, input: { method: DELETE, path: / } }
    requester: bot
    expect: { outcome: allow, rules: [reads] }
`,
    );
    const r = await cli('policy', 'test', EXAMPLE_POLICY, cases);
    expect(r.code).toBe(1);
    expect(r.out).toContain('PASS reads are allowed');
    expect(r.out).toContain(`FAIL wrongly expects deletes to be allowed (${cases}:6)`);
    expect(r.out).toContain('outcome: expected allow, got deny');
    expect(r.out).toContain('rules: expected [reads], got [no-deletes]');
    expect(r.out).toContain('reason: denied by no-deletes: Agents never delete through the API');
    expect(r.out).toContain('1 passed, 1 failed (2 cases');
  });

  it('refuses a bad cases file with the line of each problem and exits 2', async () => {
    const cases = file(
      'badcases.yaml',
      `cases:
  - name: one
    action: { kind: http, target: github, input: { method: GET } }
    requester: bot
    expect: { outcome: allowed }
  - name: two
    action: { kind: ftp, target: github, input: {} }
    requester: bot
    expect: { outcome: deny }
    extra: true
`,
    );
    const r = await cli('policy', 'test', EXAMPLE_POLICY, cases);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${cases}:5:24: cases[0].expect.outcome: expect.outcome must be one of allow, review, deny`);
    expect(r.err).toContain(`${cases}:7:21: cases[1].action.kind: unknown kind "ftp"`);
    expect(r.err).toContain(`${cases}:10:12: cases[1].extra: unknown key "extra"`);
    expect(r.err.indexOf(':7:21:')).toBeLessThan(r.err.indexOf(':10:12:'));
    expect(r.out).toBe('');
  });

  it('with --config, takes requester and target labels from the config', async () => {
    const config = file('config.yaml', CONFIG);
    const cases = file(
      'config-cases.yaml',
      `cases:
  - name: github is labelled prod in the config, so a write needs SREs
    action: { kind: http, target: github, input: { method: PUT, path: /x } }
    requester: deploy-bot
    expect: { outcome: review, rules: [prod-writes] }
  - name: gitlab is not
    action: { kind: http, target: gitlab, input: { method: PUT, path: /x } }
    requester: deploy-bot
    expect: { outcome: review, rules: [default] }
`,
    );
    const r = await cli('policy', 'test', EXAMPLE_POLICY, cases, '--config', config);
    expect(r.out).toContain('2 passed, 0 failed');
    expect(r.code).toBe(0);
    const unknown = file('unknown.yaml', 'cases:\n  - name: x\n    action: { kind: http, target: github, input: {} }\n    requester: nobody\n    expect: { outcome: deny }\n');
    const u = await cli('policy', 'test', EXAMPLE_POLICY, unknown, '--config', config);
    expect(u.code).toBe(2);
    expect(u.err).toContain('requester "nobody" is not a configured agent or human');
  });

  it('exits 1 without running cases when the policy is invalid', async () => {
    const r = await cli('policy', 'test', file('bad2.yaml', 'rules: 3\n'), EXAMPLE_CASES);
    expect(r.code).toBe(1);
    expect(r.err).toContain('rules must be a list');
    expect(r.out).not.toContain('PASS');
  });
});

describe('countersign policy explain', () => {
  it('prints the decision and, rule by rule, what held', async () => {
    const action = file('action.json', JSON.stringify({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/app/releases' } }));
    const r = await cli('policy', 'explain', EXAMPLE_POLICY, action, '--requester', 'sandbox-1');
    expect(r.code).toBe(0);
    expect(r.out).toContain('decision: deny\n');
    expect(r.out).toContain('reason:   denied by sandbox-read-only: Sandbox agents are read-only\n');
    expect(r.out).toContain('fired:    releases, sandbox-read-only\n');
    expect(r.out).toMatch(/- reads \(allow, line \d+\): match held; when = false -> not fired/);
    expect(r.out).toMatch(/\* releases \(review, line \d+\): match held; when = true -> FIRED; requires 2 approvals from group:release within 30m, escalating after 10m to group:oncall/);
    expect(r.out).toMatch(/- prod-writes \(review, line \d+\): no match \(labels\)/);
    expect(r.out).toMatch(/- shell \(review, line \d+\): no match \(kind\)/);
  });

  it('shows a condition error and the fail-closed result', async () => {
    const action = file('nopath.json', JSON.stringify({ kind: 'http', target: 'github', input: { method: 'POST' } }));
    const r = await cli('policy', 'explain', EXAMPLE_POLICY, action, '--requester', 'bot');
    expect(r.out).toContain('releases (review, line 14): match held; when errored: No such key: path (fails closed: fires) -> FIRED');
  });

  it('--json prints the decision and the trace; --config supplies facts', async () => {
    const config = file('config.yaml', CONFIG);
    const action = file('put.json', JSON.stringify({ kind: 'http', target: 'gitlab', input: { method: 'PUT', path: '/x' } }));
    const r = await cli('policy', 'explain', EXAMPLE_POLICY, action, '--requester', 'deploy-bot', '--config', config, '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { decision: { outcome: string; rules: string[] }; rules: Array<{ ruleId: string }>; input: { requester: unknown; target: unknown } };
    expect(json.decision).toMatchObject({ outcome: 'review', rules: ['default'] });
    expect(json.rules.map((x) => x.ruleId)).toHaveLength(17);
    expect(json.input.requester).toEqual({ id: 'deploy-bot', type: 'agent', owner: 'alice@example.com', labels: { team: 'payments' } });
    expect(json.input.target).toEqual({ name: 'gitlab', kind: 'http', host: 'gitlab.example.com:8443', labels: {} });
  });

  it('exits 2 on a bad action file', async () => {
    const bad = await cli('policy', 'explain', EXAMPLE_POLICY, file('bad.json', '{"kind": "http",'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('invalid JSON');
    const wrong = await cli('policy', 'explain', EXAMPLE_POLICY, file('wrong.json', '{"kind": "ftp", "target": "x", "input": {}}'));
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('kind must be one of http, mcp, tool');
    const extra = await cli('policy', 'explain', EXAMPLE_POLICY, file('extra.json', '{"kind": "http", "target": "x", "input": {}, "requester": "me"}'));
    expect(extra.code).toBe(2);
    expect(extra.err).toContain('unknown key "requester"');
  });
});
