import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess, Workspace } from './harness.js';
import { raw, runCli, startServer, startTarget, until, workspace } from './harness.js';

// `audit verify --wait` and `audit export --wait`: a script that reads the log right after
// the gateway wrote waits for the checkpoint that proves the newest entries, instead of
// reporting them unproven (docs/getting-started.md step 7 runs them back to back).

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess;
const out = mkdtempSync(join(tmpdir(), 'countersign-audit-wait-'));

beforeAll(async () => {
  target = await startTarget();
  // 6 s: long enough that the entries of a new action are surely unsigned when the CLI starts.
  ws = workspace(target.url, { extraConfig: '\naudit:\n  readerGroups: [admin]\n  checkpoints: { maxDelay: 6s }\n' });
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

describe('audit verify and export --wait', () => {
  it('refuse a malformed duration, and --wait on a source no gateway signs', async () => {
    for (const args of [['verify', '--config', ws.configPath, '--wait', 'soon'], ['export', '--config', ws.configPath, '--out', join(out, 'x'), '--wait', '0s'], ['verify', '--db', join(out, 'none.db'), '--key', 'a+b+c', '--wait', '5s']]) {
      const r = await runCli(['audit', ...args], ws.env);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--wait/);
    }
  });

  it('wait for the running gateway to sign the newest entries, then verify and export them all', async () => {
    await until(signedSize, (n) => n > 0, 20_000); // the startup entries are signed: the next ones start a new 6 s wait
    const agent = server.client(ws.tokens.agent);
    const done = await agent.wait((await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/app' } })).id, { timeoutSeconds: 10 });
    expect(done.status).toBe('succeeded');
    const last = Math.max(...(done.auditSeqs ?? []));
    expect(await signedSize()).toBeLessThanOrEqual(last); // not yet covered

    const [verify, exported] = await Promise.all([
      runCli(['audit', 'verify', '--config', ws.configPath, '--wait', '30s'], ws.env),
      runCli(['audit', 'export', '--config', ws.configPath, '--out', join(out, 'evidence'), '--wait', '30s'], ws.env),
    ]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stderr).toMatch(new RegExp(`waiting up to 30s for the gateway to sign a checkpoint covering entries 0 to \\d+`));
    expect(verify.stderr).toMatch(/signed after \d+\.\ds/);
    const proven = /^VERIFIED: entries 0 to (\d+),/m.exec(verify.stdout);
    expect(Number(proven?.[1])).toBeGreaterThanOrEqual(last);
    expect(verify.stdout).not.toMatch(/NOT VERIFIED/);
    expect(exported.code, exported.stdout + exported.stderr).toBe(0);
    expect(exported.stderr).toMatch(/signed after/);
    expect(Number(/entries 0 to (\d+),/.exec(exported.stdout)?.[1])).toBeGreaterThanOrEqual(last);
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
