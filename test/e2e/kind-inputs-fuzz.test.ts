import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/domain/errors.js';
import { startServer, startTarget, until, workspace } from './harness.js';
import type { ServerProcess, Workspace } from './harness.js';
import { callsIn, NOTES_SERVER } from './mcp-harness.js';

// Action inputs of the kinds with their own shapes, submitted to POST /v1/actions of the
// real gateway process: `command` (argv, stdin, files, and keys a command input does not
// have), `mcp` (tool and arguments, executed on a real upstream) and `tool` (tool, input,
// cwd). Properties: never a 5xx or a hang; every refusal a catalog code with its status;
// a refusal changes nothing (audit log size) and runs nothing; and whatever the input,
// only what policy allows ever runs (the command's run log, the upstream's call log).

const TOOL = fileURLToPath(new URL('../command/tool.mjs', import.meta.url));
const RUNS = Number(process.env.COUNTERSIGN_FUZZ_RUNS ?? 200);
const SEED = process.env.COUNTERSIGN_FUZZ_SEED ? { seed: Number(process.env.COUNTERSIGN_FUZZ_SEED) } : {};

const POLICY = `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: prints
    match: { kind: command, target: tools }
    when: cmd.verb == "print"
    outcome: allow
  - id: bumps
    match: { kind: command, target: tools }
    when: cmd.verb == "bump"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h }
  - id: reads
    match: { kind: mcp, target: notes }
    when: mcp.tool == "read_note" && !(has(mcp.arguments.name) && mcp.arguments.name == "secret")
    outcome: allow
  - id: writes
    match: { kind: mcp, target: notes }
    when: mcp.tool == "write_note"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h }
  - id: weather
    match: { kind: tool, target: agent-tools }
    when: tool.name == "get_weather"
    outcome: allow
  - id: repo-tools
    match: { kind: tool, target: agent-tools }
    when: has(tool.cwd) && tool.cwd.startsWith("/srv/")
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h }
`;

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess;
let notesDir: string;
let runlog: string;

beforeAll(async () => {
  target = await startTarget();
  ws = workspace(target.url, { policy: POLICY });
  notesDir = join(ws.dir, 'notes');
  runlog = join(ws.dir, 'runlog');
  mkdirSync(notesDir, { recursive: true });
  const targets = `targets:
  tools:
    kind: command
    programs:
      tool: { path: ${TOOL} }
    env: { RUNLOG: ${runlog} }
    limits: { timeout: 3s, maxOutput: 4KiB }
`;
  writeFileSync(
    ws.configPath,
    `${readFileSync(ws.configPath, 'utf8').replace('targets:\n', targets)}
audit: { readerGroups: [admin] }
tools: { agent-tools: {} }
mcp:
  servers:
    notes: { command: "${process.execPath}", args: ["${NOTES_SERVER}"], env: { NOTES_DIR: "${notesDir}" } }
`,
  );
  server = await startServer(ws);
  // The first listing pins the upstream's tools (audited): done before the property measures the log.
  const first = await submit(JSON.stringify({ kind: 'mcp', target: 'notes', input: { tool: 'read_note', arguments: { name: 'x' } } }));
  expect(first.status, first.text).toBeLessThan(300);
  // ... and finished: its result's audit entry lands after the answer, and must not be
  // counted against the first refusal the property checks.
  const id = (JSON.parse(first.text) as { id: string }).id;
  await until(
    async () => (await (await fetch(`${server.url}/v1/actions/${id}`, { headers: { authorization: `Bearer ${ws.tokens.agent}` } })).json()) as { status: string },
    (x) => x.status === 'succeeded' || x.status === 'failed',
  );
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
});

async function submit(body: string) {
  const res = await fetch(`${server.url}/v1/actions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.tokens.agent}` },
    body,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, text: await res.text() };
}

async function auditSize(): Promise<number> {
  const res = await fetch(`${server.url}/v1/audit/entries?start=0&end=0`, { headers: { authorization: `Bearer ${ws.tokens.carol}` } });
  return ((await res.json()) as { size: number }).size;
}

const runs = (): string[][] => (existsSync(runlog) ? readFileSync(runlog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]) : []);

const json = fc.jsonValue({ maxDepth: 3 });
const hostile = fc.constantFrom('', '-', '--', '--x', '-x=1', '--name=value', '\u0000', 'a\u0000b', '\u202e', '../x', '/etc/passwd', '$(id)', '`id`', ';', '|', '\n', '*', 'a'.repeat(5000), '__proto__', 'constructor');
const word = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('print', 'bump', 'env', 'exit', 'hello', 'files', '3') }, { weight: 2, arbitrary: hostile }, { weight: 2, arbitrary: fc.string({ maxLength: 12 }) });
const program = fc.oneof({ weight: 6, arbitrary: fc.constant('tool') }, { weight: 1, arbitrary: fc.constantFrom('TOOL', 'tool ', './tool', '/bin/sh', 'sh', 'node', 'kubectl', '', '.tool', 'tool\u0000', 'x'.repeat(100)) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });
const argv = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(program, fc.array(word, { maxLength: 5 })).map(([p, rest]) => [p, ...rest] as unknown) },
  { weight: 1, arbitrary: fc.array(fc.oneof(word, json), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 'tool print', {}, [], [['tool']], Array.from({ length: 5000 }, () => 'x')) },
);
const fileName = fc.oneof(fc.constantFrom('manifest.yaml', 'a', '.hidden', '..', '.', 'a/b', '../escape', '/abs', 'a\u0000', 'CON', 'x'.repeat(200), '__proto__'), fc.string({ maxLength: 12 }));
const files = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fileName, fc.oneof(fc.string({ maxLength: 40 }), json), { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 40 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, 'x']))) },
  { weight: 1, arbitrary: fc.constantFrom(null, [], 'x', 1) },
);
const commandInput = fc
  .record(
    {
      argv,
      stdin: fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 1, arbitrary: json }, { weight: 1, arbitrary: fc.constantFrom('s'.repeat(300_000), 's'.repeat(2_000_000)) }),
      files,
      // Keys a command input does not have: the environment and working directory are the target's.
      extra: fc.oneof(
        { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('PATH', 'LD_PRELOAD', 'RUNLOG', 'HOME', 'x'), fc.string({ maxLength: 20 }), { maxKeys: 2 }).map((env) => ({ env })) },
        { weight: 1, arbitrary: fc.constantFrom('/', '/tmp', '..', '').map((cwd) => ({ cwd })) },
      ),
    },
    { requiredKeys: ['argv'] },
  )
  .chain(({ extra, ...i }) => fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.constant(extra ?? {}) }).map((e) => ({ kind: 'command', target: 'tools', input: { ...i, ...e } })));

const toolName = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('read_note', 'write_note', 'delete_note', 'whoami', 'get_weather', 'delete_repo') }, { weight: 1, arbitrary: fc.oneof(hostile, fc.string({ maxLength: 20 }), json) });
const payload = fc.oneof(
  { weight: 4, arbitrary: fc.record({ name: fc.oneof(fc.constantFrom('a', 'secret', '', '__proto__'), fc.string({ maxLength: 10 }), json), text: fc.string({ maxLength: 10 }) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), json, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.oneof(json, fc.constantFrom(undefined, null, [], 'x')) },
);
const mcpInput = fc
  .record({ tool: toolName, arguments: payload, extra: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('server', 'input', 'cwd', 'name', '__proto__'), json) }) })
  .map(({ tool, arguments: a, extra }) => ({ kind: 'mcp', target: 'notes', input: { tool, arguments: a, ...(extra ? { [extra[0]]: extra[1] } : {}) } }));
const cwd = fc.oneof(fc.constantFrom('/srv/app', '/srv/../etc', '/srv/./app', 'srv/app', 'C:\\work', 'c:/x', '/srv/\u202eppa', '/srv/a\nb', '/', '', `/srv/${'x'.repeat(1100)}`), fc.string({ maxLength: 20 }), json);
const toolInput = fc
  .record({ tool: toolName, input: payload, cwd, extra: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('arguments', 'name', 'env'), json) }) }, { requiredKeys: ['tool'] })
  .map(({ extra, ...i }) => ({ kind: 'tool', target: 'agent-tools', input: { ...i, ...(extra ? { [extra[0]]: extra[1] } : {}) } }));

/** An action of one of the kinds, sometimes sent to a target of another kind, in either mode. */
const action = fc
  .record({ a: fc.oneof(commandInput, mcpInput, toolInput), retarget: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('tools', 'notes', 'agent-tools', 'github', 'nope') }), mode: fc.constantFrom(undefined, undefined, 'execute', 'decide') })
  .map(({ a, retarget, mode }) => ({ ...a, ...(retarget ? { target: retarget } : {}), ...(mode ? { mode } : {}) }));

const cases = action.map((a) => {
  const text = JSON.stringify(a);
  return { text, [fc.toStringMethod]: () => `${text.length} chars: ${text.slice(0, 400)}` };
});

describe('action inputs of the command, mcp and tool kinds under fuzzing', () => {
  it('never 5xx; refusals carry a catalog code and change and run nothing; only what policy allows runs', async () => {
    const seen = new Map<string, number>();
    const samples = new Map<string, string>();
    const count = (k: string, sample = '') => {
      seen.set(k, (seen.get(k) ?? 0) + 1);
      if (!samples.has(k)) samples.set(k, sample.slice(0, 300));
    };
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const before = { audit: await auditSize(), runs: runs().length, calls: callsIn(notesDir).length };
        const r = await submit(c.text);
        expect(r.status, r.text).toBeLessThan(500);
        if (r.status >= 400) {
          const code = (JSON.parse(r.text) as { error?: { code?: string } }).error?.code as keyof typeof ERROR_CODES;
          count(code, `${c.text.slice(0, 150)} -> ${r.text}`);
          expect(Object.keys(ERROR_CODES), r.text).toContain(code);
          expect(r.status, r.text).toBe(ERROR_CODES[code].status);
          expect(await auditSize(), `a refusal changed the log: ${r.text}`).toBe(before.audit);
        } else {
          const a = JSON.parse(r.text) as { id: string; status: string };
          // Let an allowed action finish, so that what it ran is counted with it.
          const done = await until(
            async () => (await (await fetch(`${server.url}/v1/actions/${a.id}`, { headers: { authorization: `Bearer ${ws.tokens.agent}` } })).json()) as { status: string; mode: string },
            // A decided (mode decide) action stays approved: the agent runs it itself.
            (x) => x.status !== 'running' && (x.status !== 'approved' || x.mode === 'decide'),
          );
          count(done.status);
        }
        // Whatever was asked: only `tool print ...` ran, only allowed reads reached the upstream.
        const ran = runs().slice(before.runs);
        const called = callsIn(notesDir).slice(before.calls);
        if (r.status >= 400) {
          expect(ran, r.text).toEqual([]);
          expect(called, r.text).toEqual([]);
        }
        for (const argv of ran) expect(argv[0], JSON.stringify(argv)).toBe('print');
        for (const call of called) {
          expect(call.tool).toBe('read_note');
          expect(call.args.name).not.toBe('secret');
        }
      }),
      { numRuns: RUNS, ...SEED },
    );
    for (const k of ['succeeded', 'pending', 'denied', 'VALIDATION_FAILED', 'COMMAND_INVALID_ARGV', 'COMMAND_PROGRAM_UNKNOWN', 'KIND_MISMATCH']) {
      expect(seen.get(k) ?? 0, `${k} in ${JSON.stringify([...seen])}; ${JSON.stringify([...samples])}`).toBeGreaterThan(0);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 300_000);
});
