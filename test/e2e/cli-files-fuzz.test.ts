import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { STACK_TRACE, applyTextMutations, textMutations } from '../support/text-mutations.js';
import { BASE_POLICY, configText, runCli } from './harness.js';

// Policy and config files, mutated as whole files and given to the CLI as an operator
// would (`countersign policy check [--config]`): never a crash or a stack trace, only the
// documented exit codes (docs/cli.md: 0 valid, 1 the policy has problems, each as
// file:line:col, 2 usage: the config file is invalid), and every failure explained.

// Each case starts a CLI process (1-4 s on a busy machine): a bounded sample in npm test, more with the variable.
const RUNS = Number(process.env.COUNTERSIGN_FUZZ_CLI_RUNS ?? 20);
const SEED = process.env.COUNTERSIGN_FUZZ_SEED ? { seed: Number(process.env.COUNTERSIGN_FUZZ_SEED) } : {};
const dir = mkdtempSync(join(tmpdir(), 'countersign-files-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXAMPLE_POLICY = readFileSync(fileURLToPath(new URL('../../examples/policy.yaml', import.meta.url)));
const POLICIES = [Buffer.from(BASE_POLICY), EXAMPLE_POLICY];
const CONFIG = Buffer.from(
  configText('http://127.0.0.1:9', 'channels:\n  webhooks:\n    - { name: pager, url: "http://127.0.0.1:9/hook", secret: "${T_WH}", events: [action.pending] }\naudit: { readerGroups: [admin] }\n'),
);

let n = 0;
const file = (name: string, bytes: Buffer) => {
  const path = join(dir, `${++n}-${name}`);
  writeFileSync(path, bytes);
  return path;
};

/** What every run must satisfy, whatever the file said. */
function expectExplained(r: { code: number | null; stdout: string; stderr: string }, what: string) {
  const out = `${what}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  expect([0, 1, 2], out).toContain(r.code);
  expect(r.stderr, out).not.toMatch(STACK_TRACE);
  // An exception nobody explained reaches the runtime's last resort: `error: <message>`.
  expect(r.stderr, out).not.toMatch(/^error: /m);
}

describe('policy files under fuzzed input, through `policy check`', () => {
  it('a mutated policy: exit 0 with OK, or 1 naming each problem as file:line:col', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(POLICIES.length - 1), textMutations, async (which, ms) => {
        const path = file('policy.yaml', applyTextMutations(POLICIES[which]!, ms));
        const r = await runCli(['policy', 'check', path]);
        expectExplained(r, JSON.stringify(ms));
        if (r.code === 0) expect(r.stdout).toMatch(/^OK .*: \d+ rules?, version sha256:[0-9a-f]{64}$/m);
        else {
          expect(r.code, r.stderr).toBe(1);
          expect(r.stderr).toContain('the policy is invalid');
          // Every problem line names the file and a position in it.
          const problems = r.stderr.split('\n').filter((l) => l.startsWith(`${path}:`) && !l.startsWith(`${path}: `));
          expect(problems.length, r.stderr).toBeGreaterThan(0);
          for (const p of problems) expect(p.slice(path.length), r.stderr).toMatch(/^:\d+:\d+: \S/);
        }
      }),
      { numRuns: RUNS, ...SEED },
    );
  }, 600_000);
});

describe('config files under fuzzed input, loaded by the CLI', () => {
  it('a mutated config: loaded (exit 0 or 1 for its groups), or refused with exit 2 and the reason', async () => {
    const policy = file('policy.yaml', POLICIES[0]!);
    await fc.assert(
      fc.asyncProperty(textMutations, async (ms) => {
        const path = file('countersign.yaml', applyTextMutations(CONFIG, ms));
        const r = await runCli(['policy', 'check', policy, '--config', path]);
        expectExplained(r, JSON.stringify(ms));
        if (r.code === 2) expect(r.stderr.trim(), r.stderr).not.toBe('');
        if (r.code === 1) expect(r.stderr).toContain('the policy is invalid'); // e.g. a group the mutated config no longer has
      }),
      { numRuns: RUNS, ...SEED },
    );
  }, 600_000);
});
