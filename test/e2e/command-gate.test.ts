import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/client/errors.js';
import type { Action } from '../../src/client/types.js';
import type { ServerProcess, Workspace } from './harness.js';
import { raw, runCli, startServer, startTarget, until, workspace } from './harness.js';

// Command targets run by the gateway itself: a real gateway process running real
// programs (a small node program, and kubectl and terraform where the machine has them).
const TOOL = fileURLToPath(new URL('../command/tool.mjs', import.meta.url));
const NODE_DIR = dirname(process.execPath);
const has = (p: string) => {
  try {
    return execFileSync('sh', ['-c', `command -v ${p}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
};
const KUBECTL = has('kubectl');
const TERRAFORM = has('terraform');
const SECRET = 'cmd-secret-4f9a0c7e1b2d3a5f6e7d8c9b';

const POLICY = `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: reads
    match: { kind: command }
    when: cmd.verb in ["env", "print", "files", "exit", "hang", "spam"]
    outcome: allow
  - id: changes
    match: { kind: command }
    when: cmd.verb in ["bump", "create", "apply"]
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h }
  - id: everywhere
    match: { kind: command, target: k8s }
    when: cmd.namespace == "*"
    outcome: deny
    reason: Never across every namespace
`;

let ws: Workspace;
let server: ServerProcess;
let target: Awaited<ReturnType<typeof startTarget>>;
let runlog: string;
let tfdir: string;

function config(): string {
  const path = `/usr/local/bin:/usr/bin:/bin:${NODE_DIR}`;
  let t = `
  tools:
    kind: command
    programs:
      tool: { path: ${TOOL} }
    env: { API_TOKEN: "\${T_CMD_SECRET}", RUNLOG: ${runlog} }
    path: "${path}"
    preview:
      tool: { argv: ["{program}", "preview", "{args}"], when: 'cmd.verb == "bump"' }
    drift: refuse
    limits: { timeout: 3s, maxOutput: 4KiB }
`;
  if (KUBECTL) {
    t += `
  k8s:
    kind: command
    programs:
      kubectl: { path: ${KUBECTL} }
    preview:
      kubectl: { argv: ["{program}", "{args}", "--dry-run=client", "-o", "yaml"], when: 'cmd.verb == "create"' }
    limits: { timeout: 30s }
`;
  }
  if (TERRAFORM) {
    t += `
  infra:
    kind: command
    programs:
      terraform: { path: ${TERRAFORM} }
    env: { CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" }
    cwd: ${tfdir}
    preview:
      terraform: { argv: ["{program}", "plan", "-no-color", "-input=false"], when: 'cmd.verb == "apply"' }
    limits: { timeout: 60s }
`;
  }
  return t;
}

beforeAll(async () => {
  target = await startTarget();
  ws = workspace(target.url, { policy: POLICY });
  runlog = join(ws.dir, 'runlog');
  tfdir = join(ws.dir, 'tf');
  mkdirSync(tfdir);
  writeFileSync(join(tfdir, 'main.tf'), 'resource "terraform_data" "release" {\n  input = "v1"\n}\n');
  ws.env.T_CMD_SECRET = SECRET;
  // A body limit above 10 MB, so that the target's own stdin limit is what refuses a 10 MB stdin.
  writeFileSync(ws.configPath, `${readFileSync(ws.configPath, 'utf8').replace('targets:\n', `targets:\n${config()}`)}\nserver: { bodyLimitBytes: 16777216 }\n`);
  server = await startServer(ws);
});

afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
});

const agent = () => server.client(ws.tokens.agent);
const cmd = (t: string, argv: string[], extra: { stdin?: string; files?: Record<string, string> } = {}) => ({ kind: 'command' as const, target: t, input: { argv, ...extra } });
const runs = () => (existsSync(runlog) ? readFileSync(runlog, 'utf8').trim().split('\n').filter(Boolean).length : 0);
type Body = { exitCode: number | null; stdout: string; stderr: string; truncated: boolean; ranOn: string; drift?: { approvedHash: string; actualHash: string; actual: { stdout: string } } };
const body = (a: Action) => a.result?.body as Body;

async function approved(a: Action): Promise<Action> {
  await server.client(ws.tokens.alice).approve(a.id, a.fingerprint);
  return agent().wait(a.id, { timeoutSeconds: 60 });
}

describe('command actions run by the gateway', () => {
  it('runs an allowed command with only the injected env, a fixed PATH and HOME in a private run directory; the secret it prints is redacted everywhere', async () => {
    const a = await agent().submit(cmd('tools', ['tool', 'env']), { waitSeconds: 20 });
    expect(a.status).toBe('succeeded');
    expect(a.result?.exitCode).toBe(0);
    const out = JSON.parse(body(a).stdout) as { env: Record<string, string>; cwd: string };
    expect(Object.keys(out.env).sort()).toEqual(['API_TOKEN', 'HOME', 'PATH', 'RUNLOG']);
    expect(out.env.PATH).toBe(`/usr/local/bin:/usr/bin:/bin:${NODE_DIR}`);
    expect(out.env.HOME).toBe(out.cwd);
    expect(out.env.HOME).toMatch(/countersign-run-/);
    expect(existsSync(out.env.HOME!)).toBe(false);
    expect(out.env.API_TOKEN).not.toContain(SECRET.slice(0, 12));
    expect(JSON.stringify(a)).not.toContain(SECRET);
    expect(body(a).ranOn).toBe('local');
    // Nowhere in the store or the audit log either.
    await until(() => agent().get(a.id), (x) => (x.auditSeqs?.length ?? 0) >= 4);
    expect(readFileSync(join(ws.dir, 'countersign.db')).includes(Buffer.from(SECRET))).toBe(false);
    expect(server.logs.join('\n')).not.toContain(SECRET);
  });

  it('writes the action\'s files into the run directory and sends its stdin', async () => {
    const a = await agent().submit(cmd('tools', ['tool', 'files'], { stdin: 'piped text', files: { 'manifest.yaml': 'kind: Deployment\n' } }), { waitSeconds: 20 });
    expect(a.status).toBe('succeeded');
    expect(JSON.parse(body(a).stdout)).toEqual({ stdin: 'piped text', files: { 'manifest.yaml': 'kind: Deployment\n' } });
  });

  it('records a non-zero exit as failed with its code and stderr, and cuts output at maxOutput, saying so', async () => {
    const a = await agent().submit(cmd('tools', ['tool', 'exit', '3']), { waitSeconds: 20 });
    expect(a.status).toBe('failed');
    expect(a.result).toMatchObject({ ok: false, exitCode: 3 });
    expect(body(a).stderr).toBe('exiting 3\n');
    const big = await agent().submit(cmd('tools', ['tool', 'spam', '100000']), { waitSeconds: 20 });
    expect(big.status).toBe('succeeded');
    expect(body(big).stdout.length).toBe(4096);
    expect(body(big).truncated).toBe(true);
  });

  it('kills the whole process group at the timeout: the program and what it started', async () => {
    const a = await agent().submit(cmd('tools', ['tool', 'hang']), { waitSeconds: 30 });
    expect(a.status).toBe('failed');
    expect(a.result).toMatchObject({ reason: 'timeout', error: { code: 'TIMEOUT' } });
    const grandchild = Number(/grandchild (\d+)/.exec(body(a).stdout)?.[1]);
    expect(grandchild).toBeGreaterThan(0);
    const alive = () => {
      try {
        process.kill(grandchild, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(await until(async () => alive(), (x) => !x, 5000)).toBe(false);
  });

  it('shows reviewers a dry run with its output hash, on the API and in `countersign show`, then runs exactly the approved argv once', async () => {
    const state = join(ws.dir, 'counter-a');
    const a = await agent().submit(cmd('tools', ['tool', 'bump', state]));
    expect(a.status).toBe('pending');
    expect(a.facts?.command).toMatchObject({ program: 'tool', preset: 'generic', verb: 'bump', resource: state });
    const reviewerView = await server.client(ws.tokens.alice).get(a.id);
    expect(reviewerView.preview).toMatchObject({ mode: 'command', status: 'ok', exitCode: 0, stdout: `would set ${state} from 0 to 1\n` });
    expect((reviewerView.preview as { outputHash: string }).outputHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The agent sees that there is a dry run and its hash, not its output.
    expect(a.preview).toMatchObject({ mode: 'command', status: 'ok', stdout: '', outputHidden: true });
    const shown = await runCli(['show', a.id], { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: ws.tokens.alice });
    expect(shown.stdout).toContain('would set');
    expect(shown.stdout).toContain((reviewerView.preview as { outputHash: string }).outputHash);
    expect(existsSync(state)).toBe(false);
    const done = await approved(a);
    expect(done.status).toBe('succeeded');
    expect(readFileSync(state, 'utf8')).toBe('1');
  });

  it('refuses with reason drift, recording both outputs, when the dry run changed between review and execution; nothing runs', async () => {
    const state = join(ws.dir, 'counter-b');
    const a = await agent().submit(cmd('tools', ['tool', 'bump', state]));
    expect(a.status).toBe('pending');
    writeFileSync(state, '5');
    const done = await approved(a);
    expect(done.status).toBe('failed');
    expect(done.result).toMatchObject({ reason: 'drift', error: { code: 'DRIFT' } });
    expect(body(done).drift?.actual.stdout).toBe(`would set ${state} from 5 to 6\n`);
    expect(body(done).drift?.approvedHash).toBe((a.preview as { outputHash: string }).outputHash);
    expect(readFileSync(state, 'utf8')).toBe('5');
  });

  it.skipIf(!KUBECTL)('kubectl (real): a create is previewed with --dry-run=client and runs on approval; a flag that picks other credentials is refused', async () => {
    const a = await agent().submit(cmd('k8s', ['kubectl', 'create', 'deployment', 'web', '--image=nginx', '--dry-run=client', '-o', 'yaml']));
    expect(a.status).toBe('pending');
    expect(a.facts?.command).toMatchObject({ verb: 'create', resource: 'deployments', name: 'web', flags: { image: 'nginx', 'dry-run': 'client', output: 'yaml' } });
    const view = await server.client(ws.tokens.alice).get(a.id);
    expect(view.preview).toMatchObject({ mode: 'command', status: 'ok' });
    expect((view.preview as { stdout: string }).stdout).toContain('kind: Deployment');
    const done = await approved(a);
    expect(done.status).toBe('succeeded');
    expect(body(done).stdout).toContain('name: web');
    const e = await agent().submit(cmd('k8s', ['kubectl', 'get', 'pods', '--kubeconfig', '/tmp/other'])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CountersignError);
    expect((e as CountersignError).code).toBe('COMMAND_FLAG_DENIED');
    const all = await agent().submit(cmd('k8s', ['kubectl', 'delete', 'pods', '--all', '-A']));
    expect(all).toMatchObject({ status: 'denied', decision: { rules: ['everywhere'] } });
  });

  it.skipIf(!TERRAFORM)('terraform (real): `terraform plan` is the preview of an apply, and the apply runs on approval', async () => {
    const a = await agent().submit(cmd('infra', ['terraform', 'apply', '-auto-approve', '-no-color', '-input=false']));
    expect(a.status).toBe('pending');
    const view = await server.client(ws.tokens.alice).get(a.id);
    expect(view.preview).toMatchObject({ mode: 'command', status: 'ok' });
    expect((view.preview as { stdout: string }).stdout).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
    const done = await approved(a);
    expect(done.status).toBe('succeeded');
    expect(body(done).stdout).toContain('Apply complete! Resources: 1 added');
    expect(existsSync(join(tfdir, 'terraform.tfstate'))).toBe(true);
  }, 120_000);
});

describe('countersign exec --target on a command target', () => {
  const env = () => ({ COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: ws.tokens.agent });

  it('has the gateway run the command and passes on its output and exit code; the agent needs no credential', async () => {
    const ok = await runCli(['exec', '--target', 'tools', '--', 'tool', 'print', 'hello', 'world'], env());
    expect(ok).toMatchObject({ code: 0, stdout: 'hello world\n' });
    const failed = await runCli(['exec', '--target', 'tools', '--', 'tool', 'exit', '4'], env());
    expect(failed.code).toBe(4);
    expect(failed.stderr).toContain('exiting 4');
  });

  it('sends stdin and files when asked', async () => {
    const file = join(ws.dir, 'local.txt');
    writeFileSync(file, 'from the agent machine');
    const r = await runCli(['exec', '--target', 'tools', '--stdin', '--file', `notes.txt=${file}`, '--', 'tool', 'files'], env(), 'typed in');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ stdin: 'typed in', files: { 'notes.txt': 'from the agent machine' } });
  });

  it('exits 77 when policy denies it and 69 on bad input, running nothing', async () => {
    const before = runs();
    const denied = await runCli(['exec', '--target', 'tools', '--', 'tool', 'unlisted-verb'], env());
    expect(denied.code).toBe(77);
    const bad = await runCli(['exec', '--target', 'tools', '--', 'sh', '-c', 'id'], env());
    expect(bad.code).toBe(69);
    expect(bad.stderr).toContain('COMMAND_PROGRAM_UNKNOWN');
    expect(runs()).toBe(before);
  });
});

describe('bad command input is refused with a clear 4xx and runs nothing', () => {
  const cases: Array<[string, Record<string, unknown>, number, string]> = [
    ['a program not in the list', { argv: ['rm', '-rf', '/'] }, 422, 'COMMAND_PROGRAM_UNKNOWN'],
    ['a program named by an absolute path', { argv: [TOOL, 'print', 'x'] }, 422, 'COMMAND_PROGRAM_UNKNOWN'],
    ['a program named by a relative path', { argv: ['./tool', 'print', 'x'] }, 422, 'COMMAND_PROGRAM_UNKNOWN'],
    ['a program named with ..', { argv: ['../tool', 'print', 'x'] }, 422, 'COMMAND_PROGRAM_UNKNOWN'],
    ['a NUL byte in an argument', { argv: ['tool', 'print', 'a\u0000b'] }, 400, 'COMMAND_INVALID_ARGV'],
    ['100,000 arguments', { argv: ['tool', 'print', ...Array.from({ length: 100_000 }, () => 'a')] }, 400, 'COMMAND_INVALID_ARGV'],
    ['an empty argv', { argv: [] }, 400, 'COMMAND_INVALID_ARGV'],
    ['a file name with a separator', { argv: ['tool', 'files'], files: { '../evil': 'x' } }, 400, 'COMMAND_INVALID_FILE'],
    ['a file name with a slash inside', { argv: ['tool', 'files'], files: { 'a/b': 'x' } }, 400, 'COMMAND_INVALID_FILE'],
    ['a file named ..', { argv: ['tool', 'files'], files: { '..': 'x' } }, 400, 'COMMAND_INVALID_FILE'],
    ['a denied flag of the generic preset', { argv: ['tool', 'print', '--config=/etc/other'] }, 422, 'COMMAND_FLAG_DENIED'],
    ['an unknown key beside argv', { argv: ['tool', 'print'], shell: true }, 400, 'VALIDATION_FAILED'],
  ];

  it.each(cases)('%s', async (_name, input, status, code) => {
    const before = runs();
    const r = await raw(server.url, '/v1/actions', { method: 'POST', token: ws.tokens.agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'command', target: 'tools', input }) });
    expect(r.status).toBe(status);
    expect(r.body.error?.code).toBe(code);
    expect(r.body.error?.message).toBeTruthy();
    expect(runs()).toBe(before);
  });

  it('a 10 MB stdin is refused as over the target\'s stdin limit', async () => {
    const before = runs();
    const r = await raw(server.url, '/v1/actions', {
      method: 'POST',
      token: ws.tokens.agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'command', target: 'tools', input: { argv: ['tool', 'files'], stdin: 'x'.repeat(10 * 1024 * 1024) } }),
    });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatchObject({ code: 'COMMAND_TOO_LARGE', details: { limit: 1024 * 1024 } });
    expect(runs()).toBe(before);
  });

  it.skipIf(!KUBECTL)('an unknown kubectl flag is refused: it could take a value and shift the verb', async () => {
    const r = await raw(server.url, '/v1/actions', { method: 'POST', token: ws.tokens.agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'command', target: 'k8s', input: { argv: ['kubectl', '--frobnicate', 'delete', 'ns', 'shop'] } }) });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ code: 'COMMAND_UNKNOWN_FLAG', details: { flag: '--frobnicate', preset: 'kubectl' } });
  });
});
