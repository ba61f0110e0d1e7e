import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, useServer } from './harness.js';

const ctx = useServer();
const env = (token: string) => ({ COUNTERSIGN_URL: ctx.server.url, COUNTERSIGN_TOKEN: token });

describe('the reviewer CLI against a real server', () => {
  it('pending lists what a reviewer may approve; show prints what will run and the fingerprint', async () => {
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({
      kind: 'http',
      target: 'github',
      input: { method: 'POST', path: '/repos/acme/cli/releases', body: { tag_name: 'v9' } },
      justification: 'ship from the CLI test',
    });
    const pending = await runCli(['pending'], env(ctx.ws.tokens.alice));
    expect(pending.code).toBe(0);
    expect(pending.stdout).toContain(a.id);
    expect((await runCli(['pending'], env(ctx.ws.tokens.eve))).stdout).not.toContain(a.id);
    const show = await runCli(['show', a.id], env(ctx.ws.tokens.alice));
    expect(show.stdout).toContain('POST /repos/acme/cli/releases');
    expect(show.stdout).toContain('ship from the CLI test');
    expect(show.stdout).toContain('rule releases');
    expect(show.stdout).toContain(a.fingerprint);
  });

  it('pending lists only what the caller can decide: the agent\'s owner sees its action only with --all, marked SELF_APPROVAL', async () => {
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/owned/releases' } });
    const owner = await runCli(['pending'], env(ctx.ws.tokens.carol));
    expect(owner.code).toBe(0);
    expect(owner.stdout).not.toContain(`${a.id} `);
    expect(owner.stdout).toMatch(/\d+ more pending that you cannot decide: --all/);
    const all = await runCli(['pending', '--all'], env(ctx.ws.tokens.carol));
    expect(all.stdout).toMatch(new RegExp(`${a.id}.*\\[SELF_APPROVAL: you are its requester`));
    const json = JSON.parse((await runCli(['pending', '--json'], env(ctx.ws.tokens.carol))).stdout) as Array<{ id: string }>;
    expect(json.map((x) => x.id)).not.toContain(a.id);
    const reviewer = await ctx.server.client(ctx.ws.tokens.alice).get(a.id);
    expect(reviewer.review?.you).toEqual({ canDecide: true });
  });

  it('approve asks for confirmation: without a terminal and without --yes it approves nothing', async () => {
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/cli2/releases' } });
    const r = await runCli(['approve', a.id], env(ctx.ws.tokens.alice), 'y\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect((await ctx.server.client(ctx.ws.tokens.agent).get(a.id)).review?.approvals).toHaveLength(0);
  });

  it('approve --yes records the approval of the fingerprint shown; the API rules still apply', async () => {
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/cli3/releases' } });
    const ok = await runCli(['approve', a.id, '--yes', '--comment', 'fine'], env(ctx.ws.tokens.alice));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('is now pending');
    const after = await ctx.server.client(ctx.ws.tokens.agent).get(a.id);
    expect(after.review?.approvals).toMatchObject([{ reviewer: 'alice@example.com', via: 'api', comment: 'fine', fingerprint: a.fingerprint }]);
    const owner = await runCli(['approve', a.id, '--yes'], env(ctx.ws.tokens.carol));
    expect(owner.code).toBe(1);
    expect(owner.stderr).toContain('SELF_APPROVAL');
  });

  it('deny needs a comment and denies', async () => {
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/cli4/releases' } });
    const missing = await runCli(['deny', a.id], env(ctx.ws.tokens.bob));
    expect(missing.code).toBe(2);
    const r = await runCli(['deny', a.id, '--comment', 'code freeze'], env(ctx.ws.tokens.bob));
    expect(r.code).toBe(0);
    expect((await ctx.server.client(ctx.ws.tokens.agent).get(a.id)).status).toBe('denied');
  });

  it('says clearly when there is no token or the server is unreachable', async () => {
    const none = await runCli(['pending'], { COUNTERSIGN_URL: ctx.server.url, COUNTERSIGN_TOKEN: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('COUNTERSIGN_TOKEN');
    const down = await runCli(['pending'], { COUNTERSIGN_URL: 'http://127.0.0.1:9', COUNTERSIGN_TOKEN: 'x'.repeat(20) });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach');
  });

  it('audit tail reads the log from the database, without the server', async () => {
    // No secrets in the environment: an auditor's shell does not have them.
    const r = await runCli(['audit', 'tail', '--config', ctx.ws.configPath, '-n', '5', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string });
    expect(lines.length).toBe(5);
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((x, y) => x - y));
    expect(r.stdout).not.toContain(ctx.ws.tokens.target);
    // A wrong path is an error, never a new empty database.
    const wrong = await runCli(['audit', 'tail', '--db', `${ctx.ws.dir}/nope.db`]);
    expect(wrong.code).toBe(1);
    expect(existsSync(`${ctx.ws.dir}/nope.db`)).toBe(false);
  });
});

/** The database steps: a masked read, the UPDATE held with its preview, approved by on-call, executed, a DROP denied, the table changed. */
function expectDatabaseSteps(out: string): void {
  const read = out.slice(out.indexOf('4. The agent reads churned customers'), out.indexOf('5. The agent downgrades'));
  expect(read).toMatch(/approved — allow by \[db-reads\]/);
  expect(read).toMatch(/succeeded: select, 4 rows/);
  expect(read).toContain('[masked]');
  const customerEmail = /(ada|grace|alan|edsger|barbara|donald|frances|ken)@example\.com/;
  expect(read).not.toMatch(customerEmail);
  const update = out.slice(out.indexOf('5. The agent downgrades'), out.indexOf('6. The agent tries to drop'));
  expect(update).toMatch(/pending — review by \[db-writes\]/);
  // The preview as `countersign show` prints it: 3 rows, before and after, emails masked.
  expect(update).toMatch(/rollback preview: ok/);
  expect(update).toMatch(/#1 update: 3 rows/);
  expect(update).toMatch(/before: \[2,"Grace Hopper","\[masked\]","pro",true\]/);
  expect(update).toMatch(/after: \[2,"Grace Hopper","\[masked\]","free",true\]/);
  expect(update).not.toMatch(customerEmail);
  expect(update).toMatch(/carol \(the agent's owner\) approves: refused 403 SELF_APPROVAL/);
  expect(update).toMatch(/bob \(on call\) approves: ok → approved/);
  expect(update).toMatch(/succeeded: update, 3 rows/);
  expect(out).toMatch(/denied — deny by \[[^\]]*no-drops[^\]]*\]/);
  // Read back directly from the database (not through the gateway) by the demo: the three
  // churned paid customers are now on the free plan, the others untouched.
  const now = out.slice(out.indexOf('shop-db now'), out.indexOf('7. The audit trail'));
  for (const id of [2, 4, 6]) expect(now).toMatch(new RegExp(`^  ${id} \\| [^|]+ \\| free \\| churned$`, 'm'));
  expect(now).toMatch(/^ {2}1 \| Ada Lovelace \| team$/m);
  expect(now).toMatch(/^ {2}3 \| Alan Turing \| pro$/m);
  // Nowhere, the audit trail included: the database URL (it holds the password) or a customer's email.
  expect(out).not.toContain('postgres://');
  expect(out).not.toMatch(customerEmail);
}

describe('the demo', () => {
  it('on a machine without PostgreSQL it falls back to PGlite and shows the same database steps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-demo-pglite-'));
    // No server binaries where it looks: what a fresh machine gets.
    const r = await runCli(['demo', '--auto-approve', '--dir', dir], { COUNTERSIGN_PG_BIN: join(dir, 'no-postgresql-here') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('no PostgreSQL installed: starting PGlite');
    expect(r.stdout).toMatch(/database {2}shop-db → PGlite \(PostgreSQL \d+/);
    expectDatabaseSteps(r.stdout);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs non-interactively: the read runs, the delete is denied, the release needs two humans, the UPDATE is held with its preview, and the trail shows it all', async () => {
    // A --dir that does not exist yet is created.
    const parent = mkdtempSync(join(tmpdir(), 'countersign-demo-test-'));
    const dir = join(parent, 'not', 'yet');
    const r = await runCli(['demo', '--auto-approve', '--dir', dir]);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'countersign.yaml'))).toBe(true);
    const out = r.stdout;
    expect(out).toMatch(/succeeded: HTTP 200/);
    expect(out).toMatch(/denied — deny by \[no-deletes\]/);
    expect(out).toMatch(/the agent approves: refused 403 AGENT_CANNOT_REVIEW/);
    expect(out).toMatch(/carol .* approves: refused 403 SELF_APPROVAL/);
    expect(out).toMatch(/alice approves: ok → pending \(1\/2 approvals\)/);
    expect(out).toMatch(/alice approves again: refused 409 ALREADY_REVIEWED/);
    expect(out).toMatch(/bob approves: ok → approved/);
    expect(out).toMatch(/succeeded: HTTP 201/);
    // This machine has PostgreSQL installed (the test suite needs it): the demo uses a private cluster.
    expect(out).toMatch(/database {2}shop-db → PostgreSQL \d+/);
    expectDatabaseSteps(out);
    for (const t of ['policy.loaded', 'action.submitted', 'action.decided', 'action.reviewed', 'execution.started', 'execution.finished']) expect(out).toContain(t);
    const reached = out.slice(out.indexOf('What reached the target'));
    expect(reached).toContain('GET /repos/acme/widgets');
    expect(reached).toContain('POST /repos/acme/widgets/releases');
    expect(reached).not.toMatch(/^\s+DELETE/m);
    // The trail it printed verifies offline, with the checkpoint signed at shutdown.
    const verify = /audit verify --config (\S+)/.exec(out);
    expect(verify).not.toBeNull();
    const v = await runCli(['audit', 'verify', '--config', verify![1]!, '--json', '--no-progress']);
    expect(JSON.parse(v.stdout)).toMatchObject({ exitCode: 0, counts: { governance: 0, tampering: 0, warning: 0 } });
    expect(v.code).toBe(0);
    rmSync(parent, { recursive: true, force: true });
  });
});
