import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess, Workspace } from './harness.js';
import { CLI, raw, runCli, startServer, startTarget, until, workspace } from './harness.js';

// `audit verify --wait` and `audit export --wait`: a script that reads the log right after
// the gateway wrote waits for the checkpoint that proves the newest entries, instead of
// reporting them unproven (docs/getting-started.md step 7 runs them back to back).

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess;
const out = mkdtempSync(join(tmpdir(), 'countersign-audit-wait-'));

beforeAll(async () => {
  target = await startTarget();
  // Signed only once 8 entries are uncovered (never by the clock within the test): the test
  // decides when the checkpoint comes, after both CLIs have said they wait.
  ws = workspace(target.url, { extraConfig: '\naudit:\n  readerGroups: [admin]\n  checkpoints: { maxDelay: 1h, maxEntries: 8 }\n' });
  server = await startServer(ws);
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  await target?.close();
  ws?.cleanup();
  rmSync(out, { recursive: true, force: true });
});

const signedSize = async () => {
  const r = await fetch(`${server.url}/v1/audit/checkpoint`, { headers: { authorization: `Bearer ${ws.tokens.carol}` } });
  return r.status === 200 ? Number((await r.text()).split('\n')[1]) : 0;
};

/** The CLI as a child whose stderr can be read while it runs. */
function startCli(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...ws.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { stderr: () => stderr, done };
}

describe('audit verify and export --wait', () => {
  it('refuse a malformed duration, and --wait on a source no gateway signs', async () => {
    for (const args of [['verify', '--config', ws.configPath, '--wait', 'soon'], ['export', '--config', ws.configPath, '--out', join(out, 'x'), '--wait', '0s'], ['verify', '--db', join(out, 'none.db'), '--key', 'a+b+c', '--wait', '5s']]) {
      const r = await runCli(['audit', ...args], ws.env);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--wait/);
    }
  });

  it('wait for the running gateway to sign the newest entries, then verify and export them all', async () => {
    const agent = server.client(ws.tokens.agent);
    const read = async (path: string) => agent.wait((await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path } })).id, { timeoutSeconds: 10 });
    const done = await read('/repos/acme/app');
    expect(done.status).toBe('succeeded');
    const last = Math.max(...(done.auditSeqs ?? []));
    expect(await signedSize()).toBe(0); // fewer than 8 entries: nothing signed yet

    const verify = startCli(['audit', 'verify', '--config', ws.configPath, '--wait', '30s']);
    const exported = startCli(['audit', 'export', '--config', ws.configPath, '--out', join(out, 'evidence'), '--wait', '30s']);
    for (const c of [verify, exported]) await until(async () => c.stderr(), (e) => /waiting up to 30s for the gateway to sign a checkpoint covering entries 0 to \d+/.test(e), 20_000);
    expect(await signedSize()).toBe(0);
    // Two more actions make 8 uncovered entries: the gateway signs, and both go on.
    await read('/repos/acme/one');
    await read('/repos/acme/two');
    const [v, x] = await Promise.all([verify.done, exported.done]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stderr).toMatch(/signed after \d+\.\ds/);
    const proven = /^VERIFIED: entries 0 to (\d+),/m.exec(v.stdout);
    expect(Number(proven?.[1])).toBeGreaterThanOrEqual(last);
    expect(v.stdout).not.toMatch(/NOT VERIFIED/);
    expect(x.code, x.stdout + x.stderr).toBe(0);
    expect(x.stderr).toMatch(/signed after/);
    expect(Number(/entries 0 to (\d+),/.exec(x.stdout)?.[1])).toBeGreaterThanOrEqual(last);
  }, 60_000);

  it('go on after the duration when no gateway signs, and say so; the report shows what is unproven', async () => {
    const r = await raw(server.url, '/v1/actions', { method: 'POST', token: ws.tokens.agent, body: JSON.stringify({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/other' } }), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(201);
    await server.stop('SIGKILL'); // before it signs: nothing will cover the new entries
    const verify = await runCli(['audit', 'verify', '--config', ws.configPath, '--wait', '1s'], ws.env);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).toMatch(/no checkpoint covers entry \d+ after 1s: is the gateway running/);
    expect(verify.stdout).toMatch(/^NOT VERIFIED: entries \d+ to \d+: no signed checkpoint covers them yet/m);
  }, 30_000);
});
