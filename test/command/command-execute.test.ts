import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { executeCommand } from '../../src/adapters/command/command-execute.js';
import type { CommandJob } from '../../src/adapters/command/command-execute.js';
import { commandTargetSettings } from '../../src/adapters/command/command-settings.js';
import { commandTargetSchema } from '../../src/config/command-schema.js';
import { fingerprintOf } from '../../src/domain/action.js';
import type { CommandResultBody } from '../../src/domain/command-result.js';
import { createRedactor } from '../../src/domain/redact-secrets.js';

// The executor every runner and the gateway share, against a real program.
const TOOL = fileURLToPath(new URL('./tool.mjs', import.meta.url));
const SECRET = 'exec-secret-0a1b2c3d4e5f6a7b8c9d';
const dir = mkdtempSync(join(tmpdir(), 'countersign-exec-test-'));
const runlog = join(dir, 'runlog');
const settings = commandTargetSettings(
  'tools',
  commandTargetSchema.parse({
    kind: 'command',
    programs: { tool: { path: TOOL } },
    env: { API_TOKEN: SECRET, RUNLOG: runlog },
    path: `/usr/bin:/bin:${dirname(process.execPath)}`,
    limits: { timeout: '10s' },
  }),
);
const redactor = createRedactor([SECRET], { credentials: [SECRET] });
const job = (argv: string[], requesterId = 'deploy-bot'): CommandJob => {
  const input = { argv };
  return { kind: 'command', target: 'tools', input, requesterId, fingerprint: fingerprintOf({ kind: 'command', target: 'tools', input, requester: requesterId }) };
};
const runs = () => (existsSync(runlog) ? readFileSync(runlog, 'utf8').trim().split('\n').length : 0);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('executeCommand', () => {
  it('runs nothing when the argv is not the one the fingerprint approved', async () => {
    const approved = job(['tool', 'print', 'scale to 3']);
    const tampered = { ...approved, input: { argv: ['tool', 'print', 'scale to 0'] } };
    const r = await executeCommand(settings, redactor, tampered, 'dc1');
    expect(r).toMatchObject({ ok: false, error: { code: 'FINGERPRINT_MISMATCH' } });
    const otherRequester = { ...approved, requesterId: 'other-bot' };
    expect((await executeCommand(settings, redactor, otherRequester, 'dc1')).error?.code).toBe('FINGERPRINT_MISMATCH');
    expect(runs()).toBe(0);
  });

  it('runs the approved argv once, in a private (0700) directory, reporting where it ran', async () => {
    const r = await executeCommand(settings, redactor, job(['tool', 'mode']), 'dc1');
    expect(r).toMatchObject({ ok: true, exitCode: 0 });
    expect((r.body as CommandResultBody).stdout).toBe('700\n');
    expect((r.body as CommandResultBody).ranOn).toBe('dc1');
    expect(runs()).toBe(1);
  });

  it('redacts an injected secret the program prints in another form (base64)', async () => {
    const r = await executeCommand(settings, redactor, job(['tool', 'b64env']), 'local');
    const out = (r.body as CommandResultBody).stdout;
    expect(out).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 16));
    expect(out).toContain('[REDACTED]');
  });
});
