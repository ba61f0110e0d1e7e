import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServer, startTarget, until } from './harness.js';
import type { ServerProcess } from './harness.js';
import { REVIEWS_POLICY, reviewsWorkspace } from './reviews-harness.js';
import type { ReviewsWorkspace } from './reviews-harness.js';

/*
 * Issue 17 through real processes: counters that survive a restart, the grants CLI,
 * `policy replay` over a recorded history, and policies the gateway refuses.
 */

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: ReviewsWorkspace;
let server: ServerProcess;

beforeAll(async () => {
  target = await startTarget();
  ws = reviewsWorkspace(target.url);
  server = await startServer(ws);
});
afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
});

const post = (path: string, token = ws.tokens.agent) => server.client(token).submit({ kind: 'http', target: 'github', input: { method: 'POST', path }, mode: 'decide' });
const cli = (args: string[], token?: string) => runCli(args, { ...ws.env, COUNTERSIGN_URL: server.url, ...(token ? { COUNTERSIGN_TOKEN: token } : {}) });

describe('counters across a restart', () => {
  it('keeps counting after the gateway restarts: the sixth deploy is still reviewed', async () => {
    for (let i = 0; i < 3; i++) expect((await post(`/r/${i}`)).decision.outcome).toBe('allow');
    expect(await server.stop()).toBe(0);
    server = await startServer(ws);
    for (let i = 3; i < 5; i++) expect((await post(`/r/${i}`)).decision.outcome).toBe('allow');
    const sixth = await post('/r/5');
    expect(sixth.decision.outcome).toBe('review');
    expect(sixth.decision.rules).toContain('deploy-burst');
  });
});

describe('the grants CLI', () => {
  it('approve --grant shows the scope, then grants list, show and revoke', async () => {
    const a = await server.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/releases/cli' }, mode: 'decide' });
    expect(a.status).toBe('pending');
    const first = await cli(['approve', a.id, '--yes', '--grant', '1h', '--grant-uses', '2'], ws.tokens.alice);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('The grant would cover: http actions of deploy-bot on github that rule releases would send to review');
    const second = await cli(['approve', a.id, '--yes', '--grant', '1h', '--grant-uses', '2'], ws.tokens.bob);
    expect(second.code).toBe(0);
    const id = /grant created: (grt_\S+):/.exec(second.stdout)?.[1];
    expect(id).toBeDefined();

    const list = await cli(['grants', 'list', '--active'], ws.tokens.dave);
    expect(list.stdout).toContain(id);
    const show = await cli(['grants', 'show', id!, '--json'], ws.tokens.dave);
    expect(JSON.parse(show.stdout)).toMatchObject({ id, status: 'active', uses: 0, maxUses: 2, grantedBy: ['alice@example.com', 'bob@example.com'] });
    const covered = await server.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/releases/cli' }, mode: 'decide' });
    expect(covered.status).toBe('approved');

    const tooMuch = await cli(['approve', covered.id, '--yes', '--grant', '1h', '--grant-uses', '2'], ws.tokens.alice);
    expect(tooMuch.code).toBe(1);
    const revoke = await cli(['grants', 'revoke', id!, '-m', 'done'], ws.tokens.dave);
    expect(revoke.stdout).toContain(`revoked: ${id} (1 of 2 uses made)`);
    const again = await cli(['grants', 'revoke', id!], ws.tokens.dave);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('GRANT_INACTIVE');
    const after = await server.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/releases/cli' }, mode: 'decide' });
    expect(after.status).toBe('pending');
  });

  it('batch approve needs --yes and reports each action', async () => {
    const x = await server.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/releases/bx' }, mode: 'decide' });
    const noYes = await cli(['batch', 'approve', x.id], ws.tokens.alice);
    expect(noYes.code).toBe(2);
    const ok = await cli(['batch', 'approve', x.id, '--yes'], ws.tokens.alice);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${x.id}: pending`);
    const twice = await cli(['batch', 'approve', x.id, '--yes'], ws.tokens.alice);
    expect(twice.code).toBe(1);
    expect(twice.stdout).toContain('ALREADY_REVIEWED');
  });
});

describe('policy replay', () => {
  const stricter = REVIEWS_POLICY.replace('counters.deploys >= 5', 'counters.deploys >= 3').replace(
    'rules:\n',
    `rules:
  - id: no-secrets
    match: { kind: http, target: github }
    when: http.path.startsWith("/secret")
    outcome: deny
`,
  );

  it('reports exactly the outcomes the new policy changes, grouped by rule, and gates on --fail-on-change', async () => {
    // A history of its own: other-bot, so the counts are known.
    for (let i = 0; i < 5; i++) expect((await post(`/h/${i}`, ws.tokens.other)).decision.outcome).toBe('allow');
    await server.client(ws.tokens.other).submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/secret/1' }, mode: 'decide' });
    const file = join(ws.dir, 'new-policy.yaml');
    writeFileSync(file, stricter);
    const r = await runCli(['policy', 'replay', file, '--config', ws.configPath, '--since', '1h', '--json'], ws.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { total: number; changed: number; transitions: Record<string, number>; groups: Array<{ rules: string[]; from: string; to: string; count: number; examples: Array<{ requester: string }> }> };
    // deploy-bot's fourth and fifth deploys (before and after the restart) and other-bot's fourth and fifth; the GET of /secret.
    expect(report.transitions).toEqual({ 'allow→review': 4, 'allow→deny': 1 });
    expect(report.changed).toBe(5);
    const burst = report.groups.find((g) => g.rules.includes('deploy-burst'))!;
    expect(burst).toMatchObject({ from: 'allow', to: 'review', count: 4 });
    expect(report.groups.find((g) => g.rules.includes('no-secrets'))).toMatchObject({ from: 'allow', to: 'deny', count: 1 });

    const gate = await runCli(['policy', 'replay', file, '--config', ws.configPath, '--since', '1h', '--fail-on-change', '4'], ws.env);
    expect(gate.code).toBe(1);
    expect(gate.stdout).toContain('allow → review: 4  (rule deploy-burst)');
    expect(gate.stderr).toContain('5 outcomes would change, more than --fail-on-change 4 allows');
    const same = await runCli(['policy', 'replay', ws.policyPath, '--config', ws.configPath, '--since', '1h', '--fail-on-change', '0'], ws.env);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('0 outcomes would change');
  });

  it('a broken policy is refused with its problems, before the store is read', async () => {
    const file = join(ws.dir, 'broken.yaml');
    writeFileSync(file, REVIEWS_POLICY.replace('counters.deploys >= 5', 'counters.deploy >= 5'));
    const r = await runCli(['policy', 'replay', file, '--config', ws.configPath, '--json'], ws.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/broken\.yaml:\d+:\d+: rules\[0\]\.when: CEL: unknown counter "deploy"; declared: deploys/);
  });
});

describe('policies the gateway refuses', () => {
  const check = (text: string) => {
    const file = join(ws.dir, 'check.yaml');
    writeFileSync(file, text);
    return runCli(['policy', 'check', file], ws.env);
  };

  it('an unknown time zone, a malformed counter, grants beyond limits: each with its line', async () => {
    const tz = await check(REVIEWS_POLICY.replace('"Europe/Berlin"', '"Europe/Atlantis"'));
    expect(tz.code).toBe(1);
    expect(tz.stderr).toMatch(/check\.yaml:\d+:\d+: rules\[3\]\.when: CEL: unknown time zone "Europe\/Atlantis"/);
    const noWindow = await check(REVIEWS_POLICY.replace(', window: 1h }', ' }'));
    expect(noWindow.stderr).toContain('counter deploys needs a window');
    const badName = await check(REVIEWS_POLICY.replace('  deploys: {', '  prod-deploys: {'));
    expect(badName.stderr).toContain('counter name "prod-deploys" must be letters, digits and underscores');
    const badBy = await check(REVIEWS_POLICY.replace('by: [agent]', 'by: [team]'));
    expect(badBy.stderr).toContain('unknown counter dimension "team"');
    const counterReadsCounters = await check(REVIEWS_POLICY.replace(`when: 'http.method == "POST"'`, `when: 'counters.deploys > 1'`));
    expect(counterReadsCounters.stderr).toContain("a counter's when and weight cannot read counters");
    const grants = await check(REVIEWS_POLICY.replace('maxUses: 3', 'maxUses: 0').replace('http.path]', 'http.body]'));
    expect(grants.stderr).toContain('maxUses must be an integer from 1 to 10000');
    expect(grants.stderr).toContain('unknown grant scope "http.body"');
    const mode = await check(REVIEWS_POLICY.replace('mode: shadow', 'mode: quiet'));
    expect(mode.stderr).toContain('mode must be one of enforce, shadow');
  });

  it('a policy reload with an unknown time zone keeps the last good policy', async () => {
    writeFileSync(ws.policyPath, REVIEWS_POLICY.replace('"Europe/Berlin"', '"Mars/Olympus"'));
    server.child.kill('SIGHUP');
    // The refusal's log line is the positive signal (a fixed sleep raced the file watcher's poll).
    const rejected = (logs: string[]) => logs.some((l) => l.includes('policy rejected') && l.includes('Mars/Olympus'));
    expect(rejected(await until(async () => [...server.logs], rejected))).toBe(true);
    const a = await post('/still-works', ws.tokens.other);
    expect(a.decision.policyVersion).toBeDefined();
    writeFileSync(ws.policyPath, REVIEWS_POLICY);
  });
});
