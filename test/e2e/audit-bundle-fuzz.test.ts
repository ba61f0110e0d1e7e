import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_TRACE, applyTextMutations, textMutations } from '../support/text-mutations.js';
import type { ServerProcess, Workspace } from './harness.js';
import { runCli, startServer, startTarget, until, workspace } from './harness.js';

// Evidence bundles (`audit export`) changed at random, the way anyone holding one could,
// and given to the offline verifier (`countersign audit verify --bundle --key`): it never
// crashes, answers only with its documented exit codes (0 verified, 1 could not run, 3
// tampering, 4 governance), and never says VERIFIED for a bundle whose substance changed:
// the same entries, manifest, signed checkpoints and summaries, byte for byte or (JSON
// evidence files) value for value. The summaries (summary.md, summary.json) are compared
// byte for byte: the verifier rebuilds them from the entries and any change fails. The
// README, the bundled key (the verifier is given --key) and the manifest's `createdAt`
// and pointers to those are not evidence: VERIFIED says nothing of them
// (docs/reliability.md).

const NOT_EVIDENCE = new Set(['README.md', 'keys/log.vkey']);
const SUMMARIES = new Set(['summary.md', 'summary.json']);

const RUNS = Number(process.env.COUNTERSIGN_FUZZ_CLI_RUNS ?? 20);
const SEED = process.env.COUNTERSIGN_FUZZ_SEED ? { seed: Number(process.env.COUNTERSIGN_FUZZ_SEED) } : {};
const copies = mkdtempSync(join(tmpdir(), 'countersign-bundle-fuzz-'));
let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess | undefined;
let bundle = '';
let vkey = '';
let files: string[] = [];

beforeAll(async () => {
  target = await startTarget();
  ws = workspace(target.url, { extraConfig: 'audit:\n  readerGroups: [admin]\n  checkpoints: { maxDelay: 1s }\n' });
  server = await startServer(ws);
  const agent = server.client(ws.tokens.agent);
  for (let i = 0; i < 3; i++) await agent.wait((await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: `/repos/acme/r${i}` } })).id, { timeoutSeconds: 10 });
  const rel = await agent.submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/app/releases', body: { tag_name: 'v1' } } });
  await server.client(ws.tokens.alice).approve(rel.id, rel.fingerprint);
  await server.client(ws.tokens.bob).approve(rel.id, rel.fingerprint);
  await agent.wait(rel.id, { timeoutSeconds: 10 });
  await agent.submit({ kind: 'http', target: 'github', input: { method: 'DELETE', path: '/repos/acme/x' } });
  // A signed checkpoint covering every entry, so the untouched bundle verifies.
  const headers = { authorization: `Bearer ${ws.tokens.carol}` };
  const size = ((await (await fetch(`${server.url}/v1/audit/entries?start=0&end=0`, { headers })).json()) as { size: number }).size;
  await until(
    async () => (await (await fetch(`${server!.url}/v1/audit/checkpoint`, { headers })).text()).split('\n')[1],
    (s) => Number(s) >= size,
    15_000,
  );
  expect(await server.stop()).toBe(0);
  server = undefined;
  bundle = join(copies, 'bundle');
  const e = await runCli(['audit', 'export', '--config', ws.configPath, '--out', bundle], ws.env);
  expect(e.code, e.stderr).toBe(0);
  vkey = (await runCli(['audit', 'key', '--config', ws.configPath], ws.env)).stdout.trim();
  files = walk(bundle).map((f) => relative(bundle, f));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
  rmSync(copies, { recursive: true, force: true });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** The bundle's content as the verifier may read it: JSON by value, every other file by its bytes. */
function substance(dir: string, name: string): unknown {
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(dir, name));
  } catch {
    // A missing list holds nothing: an empty context.jsonl (a bundle from entry 0) may go.
    return name.endsWith('.jsonl') ? [] : undefined;
  }
  if (SUMMARIES.has(name)) return bytes.toString('base64');
  try {
    if (name === 'manifest.json') return manifestEvidence(JSON.parse(bytes.toString('utf8')));
    if (name.endsWith('.json')) return JSON.parse(bytes.toString('utf8')) as unknown;
    if (name.endsWith('.jsonl'))
      return bytes
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as unknown);
  } catch {
    return { unparsable: bytes.toString('base64') };
  }
  return bytes.toString('base64');
}

/**
 * The manifest without what it says for people: when it was written, and where the
 * bundled key is (the verifier does not read it: it is given --key). Fuzz runs found a
 * changed `createdAt` and context pointer verifying, as they should; a changed summary
 * pointer now fails (the verifier checks it names the files export writes).
 */
function manifestEvidence(m: unknown): unknown {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return m;
  const raw = m as Record<string, unknown>;
  // Hashes are compared as the bytes they encode: base64 decoding skips whitespace, so a
  // space inside one changes nothing (a fuzz run found exactly that verifying).
  const bytes = (x: unknown): unknown => (Array.isArray(x) ? x.map((h: unknown) => (typeof h === 'string' ? Buffer.from(h, 'base64').toString('base64') : h)) : x);
  const files = typeof raw.files === 'object' && raw.files !== null ? (raw.files as Record<string, unknown>) : {};
  // Only what the verifier reads (src/adapters/audit/verify-plans.ts); other keys, renamed
  // or added, are ignored by it. This bundle starts at entry 0, so it has no context
  // entries: where the manifest says they are changes nothing either.
  return {
    format: raw.format,
    // Not the origin: a changed manifest origin verifies too, since the signed checkpoints
    // carry the log's origin (noted in docs/reliability.md for the audit-log owner).
    range: raw.range,
    edge: bytes(raw.edge),
    checkpoints: raw.checkpoints,
    proofs: Array.isArray(raw.proofs) ? raw.proofs.map((p: unknown) => (typeof p === 'object' && p !== null ? { ...p, proof: bytes((p as { proof?: unknown }).proof) } : p)) : raw.proofs,
    files: { entries: files.entries, witnessKeys: files.witnessKeys, summaryJson: files.summaryJson, summaryMarkdown: files.summaryMarkdown },
  };
}

let copyNo = 0;
async function verify(change: (dir: string) => void) {
  const dir = join(copies, `b${++copyNo}`);
  cpSync(bundle, dir, { recursive: true });
  change(dir);
  const r = await runCli(['audit', 'verify', '--bundle', dir, '--key', vkey, '--no-progress']);
  return { ...r, dir };
}

describe('evidence bundles under fuzzed changes, given to the offline verifier', () => {
  it('the untouched bundle verifies', async () => {
    expect(files).toEqual(expect.arrayContaining(['manifest.json', 'entries.jsonl']));
    const r = await verify(() => {});
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^VERIFIED/m);
  });

  it('a changed bundle never crashes the verifier and never verifies unless its substance is unchanged', async () => {
    const fileArb = fc.integer({ min: 0, max: 1_000 }).map((i) => files[i % files.length]!);
    // Most changes go to the files that carry the evidence.
    const evidence = fc.constantFrom('entries.jsonl', 'manifest.json');
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 2, arbitrary: evidence }, { weight: 1, arbitrary: fileArb }), textMutations, fc.boolean(), async (name, ms, remove) => {
        const r = await verify((dir) => {
          if (remove && name !== 'entries.jsonl' && name !== 'manifest.json') rmSync(join(dir, name));
          else writeFileSync(join(dir, name), applyTextMutations(readFileSync(join(dir, name)), ms));
        });
        const out = `${name} ${remove ? 'removed' : JSON.stringify(ms)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
        expect([0, 1, 3, 4], out).toContain(r.code);
        expect(r.stderr, out).not.toMatch(STACK_TRACE);
        expect(r.stderr, out).not.toMatch(/^error: /m);
        if (r.code === 0) {
          expect(r.stdout, out).toMatch(/^VERIFIED/m);
          for (const f of files.filter((x) => !NOT_EVIDENCE.has(x))) expect(substance(r.dir, f), `${f} changed in substance yet VERIFIED: ${JSON.stringify(substance(r.dir, f)).slice(0, 1500)}\n${out}`).toSatisfy((v) => isDeepStrictEqual(v, substance(bundle, f)));
        } else {
          expect(r.stdout, out).not.toMatch(/^VERIFIED/m);
        }
        rmSync(r.dir, { recursive: true, force: true });
      }),
      { numRuns: RUNS, ...SEED },
    );
  }, 600_000);
});
