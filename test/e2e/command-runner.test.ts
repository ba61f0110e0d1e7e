import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/types.js';
import type { ServerProcess, Workspace } from './harness.js';
import { raw, runCli, startServer, startTarget, until, workspace } from './harness.js';
import type { RunnerProcess } from './runner-harness.js';
import { startRunnerProcess } from './runner-harness.js';

// Runners end to end: a gateway process and runner processes on the same machine, the
// runners connecting out to the gateway over HTTP and running real programs with
// credentials only they hold.
const TOOL = fileURLToPath(new URL('../command/tool.mjs', import.meta.url));
const NODE_DIR = dirname(process.execPath);
// Random hex, no words: the redactor treats any 8 characters of a secret as secret, and
// 'runner-o' of a worded secret matched a temporary directory named countersign-runner-o...
const RUNNER_SECRET = randomBytes(20).toString('hex');

const POLICY = `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: reads
    match: { kind: command }
    when: cmd.verb in ["env", "print", "slow", "spam"]
    outcome: allow
  - id: changes
    match: { kind: command }
    when: cmd.verb == "bump"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h }
`;

let ws: Workspace;
let server: ServerProcess;
let target: Awaited<ReturnType<typeof startTarget>>;
let runnerDir: string;
let runlog: string;
const tokens = { dc1: randomBytes(18).toString('hex'), dc2: randomBytes(18).toString('hex') };
const runners: RunnerProcess[] = [];

function runnerConfig(): string {
  return `store: { sqlite: ./unused.db }
targets:
  remote:
    kind: command
    programs:
      tool: { path: ${TOOL} }
    env: { API_TOKEN: "\${T_RUNNER_SECRET}", RUNLOG: ${runlog} }
    path: "/usr/local/bin:/usr/bin:/bin:${NODE_DIR}"
    preview:
      tool: { argv: ["{program}", "preview", "{args}"], when: 'cmd.verb == "bump"' }
    drift: refuse
    limits: { timeout: 20s }
log: { level: info }
`;
}

async function startRunner(id: 'dc1' | 'dc2'): Promise<RunnerProcess> {
  const r = await startRunnerProcess({ gateway: server.url, config: join(runnerDir, 'runner.yaml'), env: { COUNTERSIGN_RUNNER_TOKEN: tokens[id], T_RUNNER_SECRET: RUNNER_SECRET } });
  runners.push(r);
  return r;
}

const stopProcess = (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });

function auditEntries(): Array<{ type: string; data: Record<string, unknown> }> {
  const db = new Database(join(ws.dir, 'countersign.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT bytes FROM audit_entries ORDER BY seq').all() as Array<{ bytes: Buffer }>).map((r) => JSON.parse(r.bytes.toString('utf8')) as { type: string; data: Record<string, unknown> });
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  target = await startTarget();
  ws = workspace(target.url, {
    policy: POLICY,
    extraConfig: `runners:
  lease: 2s
  claimTimeout: 10s
  list:
    - { id: dc1, token: "\${T_RUNNER1}" }
    - { id: dc2, token: "\${T_RUNNER2}" }
`,
  });
  ws.env.T_RUNNER1 = tokens.dc1;
  ws.env.T_RUNNER2 = tokens.dc2;
  // The gateway knows the target's programs (for policy) and who runs it; no path, no env, no credential.
  writeFileSync(ws.configPath, readFileSync(ws.configPath, 'utf8').replace('targets:\n', 'targets:\n  remote: { kind: command, programs: { tool: {} }, runner: [dc1, dc2], limits: { timeout: 20s } }\n'));
  runnerDir = mkdtempSync(join(tmpdir(), 'countersign-runner-'));
  runlog = join(runnerDir, 'runlog');
  writeFileSync(join(runnerDir, 'runner.yaml'), runnerConfig());
  server = await startServer(ws);
  await startRunner('dc1');
  await startRunner('dc2');
}, 60_000);

afterAll(async () => {
  for (const r of runners) await stopProcess(r.child);
  await server?.stop();
  await target?.close();
  ws?.cleanup();
  rmSync(runnerDir, { recursive: true, force: true });
});

const agent = () => server.client(ws.tokens.agent);
const cmd = (argv: string[]) => ({ kind: 'command' as const, target: 'remote', input: { argv } });
const runLines = () => (existsSync(runlog) ? readFileSync(runlog, 'utf8').trim().split('\n').filter(Boolean) : []);
type Body = { exitCode: number | null; stdout: string; ranOn: string; drift?: { actual: { stdout: string } } };
const body = (a: Action) => a.result?.body as Body;

describe('a runner inside the target\'s network', () => {
  it('runs an allowed command with the credentials only it holds; the gateway never sees them and the output is redacted', async () => {
    const a = await agent().submit(cmd(['tool', 'env']), { waitSeconds: 30 });
    expect(a.status).toBe('succeeded');
    expect(['dc1', 'dc2']).toContain(body(a).ranOn);
    const out = JSON.parse(body(a).stdout) as { env: Record<string, string> };
    expect(out.env.API_TOKEN).toBeDefined();
    expect(out.env.API_TOKEN).not.toContain(RUNNER_SECRET.slice(0, 12));
    expect(JSON.stringify(a)).not.toContain(RUNNER_SECRET);
    expect(readFileSync(join(ws.dir, 'countersign.db')).includes(Buffer.from(RUNNER_SECRET))).toBe(false);
    const entries = auditEntries();
    expect(entries.some((e) => e.type === 'runner.claimed' && e.data.actionId === a.id && e.data.fingerprint === a.fingerprint)).toBe(true);
    expect(entries.some((e) => e.type === 'execution.finished' && JSON.stringify(e).includes(a.id) && e.data.ranOn === body(a).ranOn)).toBe(true);
  });

  it('`countersign runners` lists both runners, connected, with their host, targets and last seen time', async () => {
    const r = await runCli(['runners'], { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: ws.tokens.alice });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^dc1\s+connected \(1\)\s+last seen \d{4}-/m);
    expect(r.stdout).toMatch(/^dc2\s+connected \(1\)\s+last seen \d{4}-/m);
    expect(r.stdout).toContain('serves remote');
    const entries = auditEntries();
    expect(entries.filter((e) => e.type === 'runner.connected').map((e) => e.data.runner).sort()).toEqual(['dc1', 'dc2']);
  });

  it('brings back a result larger than an agent\'s request body limit, cut at the runner\'s maxOutput', async () => {
    const a = await agent().submit(cmd(['tool', 'spam', String(3 * 1024 * 1024)]), { waitSeconds: 30 });
    expect(a.status).toBe('succeeded');
    expect(body(a).stdout.length).toBe(1024 * 1024);
    expect(a.result?.bodyTruncated).toBe(true);
  });

  it('runs each action on exactly one runner when several serve the target', async () => {
    const before = runLines().length;
    const done = await Promise.all(Array.from({ length: 8 }, (_, i) => agent().submit(cmd(['tool', 'print', `job-${i}`]), { waitSeconds: 30 })));
    expect(done.map((a) => a.status)).toEqual(Array(8).fill('succeeded'));
    const lines = runLines().slice(before);
    for (let i = 0; i < 8; i++) expect(lines.filter((l) => l === JSON.stringify(['print', `job-${i}`]))).toHaveLength(1);
  });

  it('previews on the runner for reviewers, and refuses with reason drift when the dry run changed before execution', async () => {
    const state = join(runnerDir, 'counter');
    const a = await agent().submit(cmd(['tool', 'bump', state]));
    expect(a.status).toBe('pending');
    const view = await server.client(ws.tokens.alice).get(a.id);
    expect(view.preview).toMatchObject({ mode: 'command', status: 'ok', stdout: `would set ${state} from 0 to 1\n` });
    writeFileSync(state, '7');
    await server.client(ws.tokens.alice).approve(a.id, a.fingerprint);
    const done = await agent().wait(a.id, { timeoutSeconds: 30 });
    expect(done.result).toMatchObject({ reason: 'drift', error: { code: 'DRIFT' } });
    expect(body(done).drift?.actual.stdout).toBe(`would set ${state} from 7 to 8\n`);
    expect(readFileSync(state, 'utf8')).toBe('7');
  });

  it('refuses a runner with a wrong token, an agent token on the runner route and a runner token on the agent API', async () => {
    const sync = (token: string) =>
      raw(server.url, '/v1/runner/sync', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instance: 'aaaaaaaa-bbbb', host: 'x', targets: ['remote'], running: [], results: [], waitMs: 0 }) });
    expect((await sync('wrong-token-wrong-token')).body.error?.code).toBe('RUNNER_UNAUTHENTICATED');
    expect((await sync(ws.tokens.agent)).status).toBe(401);
    const asAgent = await raw(server.url, '/v1/actions', { method: 'POST', token: tokens.dc1, headers: { 'content-type': 'application/json' }, body: JSON.stringify(cmd(['tool', 'env'])) });
    expect(asAgent.body.error?.code).toBe('UNAUTHENTICATED');
  });

  it('kill -9 of the runner mid-run: the action is marked interrupted after the lease and never run again', async () => {
    const state = join(runnerDir, 'slow-1');
    const a = await agent().submit(cmd(['tool', 'slow', state, '3']));
    expect(a.status).toBe('approved');
    const started = await until(async () => runLines().some((l) => l.includes(state)), (x) => x, 15_000);
    expect(started).toBe(true);
    // The runner that took it (the audit log names its instance).
    const claim = await until(async () => auditEntries().find((e) => e.type === 'runner.claimed' && e.data.actionId === a.id), (x) => x !== undefined);
    const holder = runners.find((r) => r.instance === claim!.data.instance)!;
    await stopProcess(holder.child, 'SIGKILL');
    const done = await agent().wait(a.id, { timeoutSeconds: 30 });
    expect(done.status).toBe('failed');
    expect(done.result).toMatchObject({ reason: 'interrupted', error: { code: 'INTERRUPTED' } });
    expect(auditEntries().some((e) => e.type === 'runner.disconnected' && (e.data.interrupted as string[]).includes(a.id))).toBe(true);
    // A runner that connects afterwards is never handed it again.
    runners.splice(runners.indexOf(holder), 1);
    await startRunner(holder === runners[0] ? 'dc2' : 'dc1');
    await new Promise((r) => setTimeout(r, 2500));
    expect(runLines().filter((l) => l.includes(state))).toHaveLength(1);
    expect((await agent().get(a.id)).status).toBe('failed');
  }, 60_000);

  it('a runner that reconnects reports the result it held: after the gateway itself was killed mid-run, it lands in the audit log as late and changes nothing', async () => {
    const state = join(runnerDir, 'slow-2');
    const a = await agent().submit(cmd(['tool', 'slow', state, '2']));
    await until(async () => runLines().some((l) => l.includes(state)), (x) => x, 15_000);
    const port = new URL(server.url).port;
    await server.stop('SIGKILL');
    // The same gateway again, on the same address and store.
    writeFileSync(ws.configPath, readFileSync(ws.configPath, 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`));
    await new Promise((r) => setTimeout(r, 2500));
    server = await startServer(ws);
    const after = await agent().wait(a.id, { timeoutSeconds: 30 });
    expect(after.result).toMatchObject({ reason: 'interrupted' });
    const late = await until(async () => auditEntries().find((e) => e.type === 'runner.result-late' && e.data.actionId === a.id), (x) => x !== undefined, 20_000);
    expect(late?.data).toMatchObject({ ok: true, exitCode: 0 });
    expect((await agent().get(a.id)).status).toBe('failed');
    expect(runLines().filter((l) => l.includes(state))).toHaveLength(1);
  }, 60_000);
});
