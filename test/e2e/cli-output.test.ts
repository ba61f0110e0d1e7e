import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './harness.js';

const POLICY = join(import.meta.dirname, '../../examples/policy.yaml');
const dir = mkdtempSync(join(tmpdir(), 'cs-cli-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI with its stdout closed before it writes anything, as `| head` leaves it. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('countersign token', () => {
  it('token hash prints the exact sha256:<hex> a config takes, from stdin, one line ending ignored', async () => {
    const token = 'a-token-of-thirty-two-characters';
    const want = `sha256:${createHash('sha256').update(token).digest('hex')}`;
    for (const input of [token, `${token}\n`, `${token}\r\n`]) {
      const r = await runCli(['token', 'hash'], {}, input);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${want}\n`);
    }
  });

  it('token hash refuses what is not one token of at least 16 characters, and never echoes it', async () => {
    for (const input of ['short', 'one-token-that-is-long\nand-another-one-too']) {
      const r = await runCli(['token', 'hash'], {}, input);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain(input);
    }
  });

  it('token new prints a fresh token and its hash', async () => {
    const r = await runCli(['token', 'new']);
    const [token, hash] = r.stdout.trim().split('\n');
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(hash).toBe(`sha256:${createHash('sha256').update(token!).digest('hex')}`);
  });
});

describe('a closed stdout (`countersign ... | head`)', () => {
  const action = join(dir, 'action.json');
  writeFileSync(action, JSON.stringify({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/app' } }));

  it.each([
    ['policy explain', ['policy', 'explain', POLICY, action, '--requester', 'deploy-bot']],
    ['policy explain --json', ['policy', 'explain', POLICY, action, '--json']],
    ['policy check', ['policy', 'check', POLICY]],
    ['help', ['--help']],
    ['token new', ['token', 'new']],
  ])('%s stops quietly: no stack trace, exit 0', async (_name, args) => {
    const r = await withClosedStdout(args);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at .*\(node:/);
    expect(r.code).toBe(0);
  });
});
