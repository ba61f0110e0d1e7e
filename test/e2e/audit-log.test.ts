import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHash } from '../../src/domain/audit-entry.js';
import { openCheckpoint } from '../../src/domain/checkpoint.js';
import { verifyConsistency, verifyInclusion } from '../../src/domain/merkle.js';
import { parseNote, parseVerifierKey, signerFromSeed, verifyCosignature } from '../../src/domain/signed-note.js';
import type { FakeWitness } from '../fakes/tlog-witness.js';
import { startTlogWitness } from '../fakes/tlog-witness.js';
import type { ServerProcess, Workspace } from './harness.js';
import { raw, runCli, startServer, startTarget, until, workspace } from './harness.js';

// The verifiable audit log end to end: a real gateway signs checkpoints, pushes them to a
// witness folder and to a C2SP tlog-witness, streams OCSF and CloudEvents, serves entries,
// proofs and receipts; the CLI prints the key, verifies the database, exports a bundle and
// verifies it, all offline.

interface Collected {
  url: string;
  batches: Array<{ contentType: string; events: Array<Record<string, unknown>> }>;
  close(): Promise<void>;
}

async function startCollector(): Promise<Collected> {
  const batches: Collected['batches'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      batches.push({ contentType: String(req.headers['content-type']), events: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<Record<string, unknown>> });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    batches,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const auditConfig = (witnessUrl: string, collectorUrl: string, witnessKey?: string) => `
audit:
  readerGroups: [admin]
  origin: audit.e2e.example/log
  checkpoints: { maxDelay: 1s }
  witnesses:
    - { directory: ./witness }
    - { url: "${witnessUrl}"${witnessKey ? `, key: "${witnessKey}"` : ''} }
  siem:
    - { name: ocsf-file, format: ocsf, file: ./siem/ocsf.jsonl }
    - { name: collector, format: cloudevents, url: "${collectorUrl}", batchSize: 5 }
`;

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess;
let witness: FakeWitness;
let collector: Collected;
let vkey: string;
const out = mkdtempSync(join(tmpdir(), 'countersign-audit-e2e-'));

beforeAll(async () => {
  target = await startTarget();
  collector = await startCollector();
  ws = workspace(target.url, { extraConfig: auditConfig('http://127.0.0.1:9/add-checkpoint', collector.url) });
  // The key is created before the first start, so that the witness can be told it.
  const key = await runCli(['audit', 'key', '--config', ws.configPath], ws.env);
  expect(key.code).toBe(0);
  expect(key.stderr).toContain('generated a new audit signing key');
  vkey = key.stdout.trim();
  witness = await startTlogWitness({ name: 'witness.e2e.example/w1', logVkey: vkey });
  const text = readFileSync(ws.configPath, 'utf8').replace('http://127.0.0.1:9/add-checkpoint', witness.url).replace(`url: "${witness.url}" }`, `url: "${witness.url}", key: "${witness.vkey}" }`);
  writeFileSync(ws.configPath, text);
  server = await startServer(ws);
});

afterAll(async () => {
  await server?.stop();
  await target?.close();
  await witness?.close();
  await collector?.close();
  ws?.cleanup();
  rmSync(out, { recursive: true, force: true });
});

const auditor = () => ws.tokens.carol; // group admin = audit reader here
const get = (path: string, token = auditor()) => raw(server.url, path, { token });

async function checkpoint(min: number): Promise<string> {
  const r = await until(
    () => fetch(`${server.url}/v1/audit/checkpoint`, { headers: { authorization: `Bearer ${auditor()}` } }).then(async (res) => ({ status: res.status, text: await res.text(), type: res.headers.get('content-type') })),
    (x) => x.status === 200 && Number(x.text.split('\n')[1]) >= min,
    15_000,
  );
  expect(r.status).toBe(200);
  expect(r.type).toMatch(/^text\/plain/);
  return r.text;
}

describe('the verifiable audit log, end to end', () => {
  let allowedId = '';
  let reviewedId = '';
  let pendingId = '';

  it('keeps the signing key in a file only its owner can read, and prints the same key every time', async () => {
    const file = join(ws.dir, 'keys', 'audit-signing.key');
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^PRIVATE\+KEY\+audit\.e2e\.example\/log\+[0-9a-f]{8}\+/);
    const again = await runCli(['audit', 'key', '--config', ws.configPath, '--json'], ws.env);
    expect(JSON.parse(again.stdout)).toMatchObject({ verifierKey: vkey, name: 'audit.e2e.example/log', source: 'file' });
    expect(again.stdout).not.toContain('PRIVATE');
  });

  it('lists the sequence numbers of its entries on each action, and signs a checkpoint covering them within seconds', async () => {
    const agent = server.client(ws.tokens.agent);
    const allowed = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/app' } });
    allowedId = allowed.id;
    expect((allowed as unknown as { auditSeqs: number[] }).auditSeqs).toHaveLength(2);
    const done = await agent.wait(allowed.id, { timeoutSeconds: 10 });
    const seqs = (done as unknown as { auditSeqs: number[] }).auditSeqs;
    expect(seqs).toHaveLength(4);
    expect(seqs[1]).toBe(seqs[0]! + 1);

    const rel = await agent.submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/app/releases', body: { tag_name: 'v9' } } });
    reviewedId = rel.id;
    await server.client(ws.tokens.alice).approve(rel.id, rel.fingerprint);
    const approved = await server.client(ws.tokens.bob).approve(rel.id, rel.fingerprint, 'ok');
    expect((approved as unknown as { auditSeqs: number[] }).auditSeqs).toHaveLength(4);
    await agent.wait(rel.id, { timeoutSeconds: 10 });
    const pending = await agent.submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/app/releases', body: { tag_name: 'v10' } } });
    pendingId = pending.id;
    await agent.submit({ kind: 'http', target: 'github', input: { method: 'DELETE', path: '/repos/acme/app' } });

    const size = (await get('/v1/audit/entries?start=0&end=1')).body.size as number;
    const note = await checkpoint(size);
    const cp = openCheckpoint(note, [parseVerifierKey(vkey)]);
    expect(cp.origin).toBe('audit.e2e.example/log');
    expect(cp.size).toBeGreaterThanOrEqual(size);
  });

  it('serves entries with their bytes and leaf hashes, and proofs that verify against the signed checkpoint', async () => {
    const note = await checkpoint(1);
    const cp = openCheckpoint(note, [parseVerifierKey(vkey)]);
    const r = await get(`/v1/audit/entries?start=0&end=${cp.size}`);
    expect(r.status).toBe(200);
    const entries = r.body.entries as Array<{ seq: number; bytes: string; leafHash: string; entry: { seq: number; type: string } }>;
    expect(entries.map((e) => e.seq)).toEqual([...Array(cp.size).keys()]);
    expect(entries[0]!.entry.type).toBe('policy.loaded');
    for (const e of entries) {
      const bytes = Buffer.from(e.bytes, 'base64');
      expect(leafHash(bytes).toString('base64')).toBe(e.leafHash);
      expect(JSON.parse(bytes.toString('utf8'))).toEqual(e.entry);
    }
    const index = entries.length - 2;
    const inc = await get(`/v1/audit/proof/inclusion?index=${index}`);
    expect(inc.status).toBe(200);
    expect(inc.body).toMatchObject({ index, size: cp.size });
    // The same signed checkpoint; a witness may have cosigned it since, adding a line.
    const served = inc.body.checkpoint as string;
    for (const line of note.split('\n').filter(Boolean)) expect(served.split('\n')).toContain(line);
    const proof = (inc.body.proof as string[]).map((p) => Buffer.from(p, 'base64'));
    expect(verifyInclusion(index, cp.size, Buffer.from(entries[index]!.leafHash, 'base64'), proof, cp.root)).toBe(true);

    const con = await get(`/v1/audit/proof/consistency?from=3&to=${cp.size}`);
    const root3 = (await get('/v1/audit/proof/inclusion?index=0&size=3')).body;
    expect(root3.size).toBe(3);
    expect(con.status).toBe(200);
    // The root at 3 from the three first leaves, then the proof links it to the checkpoint.
    const { rootOfLeaves } = await import('../../src/domain/merkle.js');
    const r3 = rootOfLeaves(entries.slice(0, 3).map((e) => Buffer.from(e.leafHash, 'base64')));
    expect(verifyConsistency(3, cp.size, r3, cp.root, (con.body.proof as string[]).map((p) => Buffer.from(p, 'base64')))).toBe(true);
  });

  it('lets only audit readers read the log, and refuses malformed or impossible requests with stable codes', async () => {
    for (const token of [ws.tokens.agent, ws.tokens.alice]) {
      for (const path of ['/v1/audit/checkpoint', '/v1/audit/entries?start=0', '/v1/audit/proof/inclusion?index=0', '/v1/audit/proof/consistency?from=1']) {
        const r = await get(path, token);
        expect(r.status, path).toBe(403);
        expect(r.body.error?.code).toBe('FORBIDDEN');
      }
    }
    expect((await raw(server.url, '/v1/audit/checkpoint')).status).toBe(401);
    const bad: Array<[string, number, string]> = [
      ['/v1/audit/entries', 400, 'VALIDATION_FAILED'],
      ['/v1/audit/entries?start=-1', 400, 'VALIDATION_FAILED'],
      ['/v1/audit/entries?start=abc', 400, 'VALIDATION_FAILED'],
      ['/v1/audit/entries?start=0&junk=1', 400, 'VALIDATION_FAILED'],
      ['/v1/audit/entries?start=0&end=5000', 400, 'AUDIT_RANGE'],
      ['/v1/audit/entries?start=999999', 400, 'AUDIT_RANGE'],
      ['/v1/audit/proof/inclusion?index=999999', 400, 'AUDIT_RANGE'],
      ['/v1/audit/proof/inclusion?index=0&size=999999', 400, 'AUDIT_RANGE'],
      ['/v1/audit/proof/consistency?from=0', 400, 'VALIDATION_FAILED'],
      ['/v1/audit/proof/consistency?from=5&to=3', 400, 'AUDIT_RANGE'],
      ['/v1/actions/not-an-id/receipt', 400, 'VALIDATION_FAILED'],
      ['/v1/actions/act_0000000000000/receipt', 404, 'NOT_FOUND'],
    ];
    for (const [path, status, code] of bad) {
      const r = await get(path);
      expect(r.status, path).toBe(status);
      expect(r.body.error?.code, path).toBe(code);
    }
  });

  it('gives each action an offline receipt: agents only their own; it verifies with the CLI and fails when edited', async () => {
    await checkpoint(1);
    const mine = await until(
      () => get(`/v1/actions/${reviewedId}/receipt`, ws.tokens.agent),
      (r) => r.status === 200 && (r.body.pending as number[]).length === 0,
    );
    expect(mine.status).toBe(200);
    const receipt = mine.body as { entries: Array<{ seq: number; entry: string; tlogProof: string }>; checkpoint: string };
    expect(receipt.entries.map((e) => (JSON.parse(e.entry) as { type: string }).type)).toEqual(['action.submitted', 'action.decided', 'action.reviewed', 'action.reviewed', 'execution.started', 'execution.finished']);
    expect(receipt.entries[0]!.tlogProof.startsWith(`c2sp.org/tlog-proof@v1\nextra `)).toBe(true);
    const viaSdk = await server.client(ws.tokens.agent).receipt(reviewedId);
    expect(viaSdk.entries.map((e) => e.seq)).toEqual(receipt.entries.map((e) => e.seq));
    expect((await get(`/v1/actions/${reviewedId}/receipt`, ws.tokens.other)).status).toBe(404);
    expect((await get(`/v1/actions/${reviewedId}/receipt`, ws.tokens.bob)).status).toBe(200); // a reviewer of it

    const file = join(out, 'receipt.json');
    writeFileSync(file, JSON.stringify(receipt));
    const ok = await runCli(['audit', 'verify', '--receipt', file, '--key', vkey, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ result: 'verified', verified: 6 });
    // VERIFIED names the proven entries only; entries still pending are said not to be.
    writeFileSync(file, JSON.stringify({ ...receipt, pending: [999_999] }));
    const text = await runCli(['audit', 'verify', '--receipt', file, '--key', vkey]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`VERIFIED: 6 entries of ${reviewedId}`);
    expect(text.stdout).toContain('NOT VERIFIED: entries 999999');

    const edited = structuredClone(receipt);
    edited.entries[2]!.entry = edited.entries[2]!.entry.replace('alice@example.com', 'mallory@example.com');
    writeFileSync(file, JSON.stringify(edited));
    const bad = await runCli(['audit', 'verify', '--receipt', file, '--key', vkey, '--json']);
    expect(bad.code).toBe(3);
    expect((JSON.parse(bad.stdout) as { findings: unknown[] }).findings[0]).toMatchObject({ check: 'leaf-hash', seq: receipt.entries[2]!.seq });
    expect(allowedId && pendingId).toBeTruthy();
  });

  it('pushes checkpoints to the witness folder and to the tlog-witness, and keeps its verified cosignature', async () => {
    const note = await checkpoint(1);
    const size = Number(note.split('\n')[1]);
    const dir = join(ws.dir, 'witness', encodeURIComponent('audit.e2e.example/log'));
    const copies = await until(
      async () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.checkpoint')) : []),
      (f) => f.includes(`${String(size).padStart(16, '0')}.checkpoint`),
    );
    expect(copies.length).toBeGreaterThan(0);
    const cosigned = await until(
      () => fetch(`${server.url}/v1/audit/checkpoint`, { headers: { authorization: `Bearer ${auditor()}` } }).then((r) => r.text()),
      (t) => parseNote(t).signatures.length >= 2,
    );
    const parsed = parseNote(cosigned);
    const wkey = parseVerifierKey(witness.vkey);
    expect(parsed.signatures.some((s) => verifyCosignature(parsed.text, s, wkey) !== undefined)).toBe(true);
    expect(witness.requests.some((r) => r.status === 200)).toBe(true);
    expect(witness.requests.filter((r) => r.status === 422 || r.status === 403)).toEqual([]);
  });

  it('streams every entry to the SIEM: OCSF 1.8 API Activity to a file, CloudEvents 1.0 batches over HTTP', async () => {
    const size = (await get('/v1/audit/entries?start=0&end=1')).body.size as number;
    const file = join(ws.dir, 'siem', 'ocsf.jsonl');
    const lines = await until(
      async () => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []),
      (l) => l.length >= size,
    );
    const ocsf = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(ocsf.map((e) => (e.metadata as { sequence: number }).sequence)).toEqual([...Array(ocsf.length).keys()]);
    const decided = ocsf.find((e) => e.api && (e.api as { operation: string }).operation === 'action.decided' && e.action_id === 2)!;
    expect(decided).toMatchObject({ class_uid: 6003, category_uid: 6, type_uid: 600303, disposition_id: 2, metadata: { version: '1.8.0', profiles: ['security_control'] } });
    expect((decided.authorizations as Array<{ decision: string; policy: { uid: string } }>)[0]).toMatchObject({ decision: 'deny' });
    const events = await until(
      async () => collector.batches.flatMap((b) => b.events),
      (e) => e.length >= size,
    );
    expect(collector.batches.every((b) => b.contentType === 'application/cloudevents-batch+json' && b.events.length <= 5)).toBe(true);
    expect(events.slice(0, size).map((e) => e.id)).toEqual([...Array(size).keys()].map((i) => `audit.e2e.example/log/${i}`));
    expect(events[0]).toMatchObject({ specversion: '1.0', type: 'dev.countersign.audit.policy.loaded', sequence: '0000000000000000' });
    // Nothing secret leaves: the target credential is injected by the gateway, never logged.
    expect(JSON.stringify(events) + lines.join('')).not.toContain(ws.tokens.target);
  });

  it('after a stop, verifies the database offline, exports a bundle and verifies the bundle with no database', async () => {
    expect(await server.stop()).toBe(0);
    const v = await runCli(['audit', 'verify', '--config', ws.configPath, '--json'], ws.env);
    expect(v.stderr).toBe('');
    const report = JSON.parse(v.stdout) as { result: string; counts: Record<string, number>; witnesses: { checked: number }; checkpoints: { checked: number; cosigned: number; latest: { size: number } }; entries: { end: number } };
    expect(v.code).toBe(0);
    expect(report.result).toBe('verified');
    // The last checkpoint, signed at shutdown, covers everything.
    expect(report.checkpoints.latest.size).toBe(report.entries.end);
    expect(report.witnesses.checked).toBeGreaterThan(0);
    expect(report.checkpoints.cosigned).toBeGreaterThan(0);

    const text = await runCli(['audit', 'verify', '--config', ws.configPath], ws.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^VERIFIED: /m);

    const bundle = join(out, 'bundle');
    const e = await runCli(['audit', 'export', '--config', ws.configPath, '--out', bundle], ws.env);
    expect(e.code).toBe(0);
    for (const f of ['README.md', 'manifest.json', 'entries.jsonl', 'context.jsonl', 'summary.md', 'summary.json', 'keys/log.vkey']) expect(existsSync(join(bundle, f)), f).toBe(true);
    const summary = JSON.parse(readFileSync(join(bundle, 'summary.json'), 'utf8')) as { reviews: { approvers: Array<{ reviewer: string }> } };
    expect(summary).toMatchObject({ governance: { violations: 0 }, decisions: { byOutcome: { allow: 1, review: 2, deny: 1 } }, reviews: { actionsNeedingReview: 2, approved: 1, stillPending: 1 } });
    expect(summary.reviews.approvers.map((a) => a.reviewer).sort()).toEqual(['alice@example.com', 'bob@example.com']);
    expect(readFileSync(join(bundle, 'summary.md'), 'utf8')).toContain('Median time from decision to approval');

    const vb = await runCli(['audit', 'verify', '--bundle', bundle, '--key', vkey, '--json']);
    expect(vb.code).toBe(0);
    expect(JSON.parse(vb.stdout)).toMatchObject({ result: 'verified', entries: { start: 0 } });
    // Without --key, a script checking only the exit code must not accept whatever key the bundle carries.
    const noKey = await runCli(['audit', 'verify', '--bundle', bundle]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--trust-bundle-key');
    const trusting = await runCli(['audit', 'verify', '--bundle', bundle, '--trust-bundle-key']);
    expect(trusting.code).toBe(0);
    expect(trusting.stdout).toContain('trusting the key shipped in the bundle');

    // A range export: the later half, with the context its governance checks need.
    const all = readFileSync(join(bundle, 'entries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ts: string; seq: number });
    const since = all[Math.floor(all.length / 2)]!.ts;
    const part = join(out, 'part');
    expect((await runCli(['audit', 'export', '--config', ws.configPath, '--out', part, '--since', since], ws.env)).code).toBe(0);
    const vp = await runCli(['audit', 'verify', '--bundle', part, '--key', vkey, '--json']);
    expect(vp.code).toBe(0);
    const pr = JSON.parse(vp.stdout) as { entries: { start: number }; result: string };
    expect(pr.entries.start).toBeGreaterThan(0);
    expect(pr.result).toBe('verified');

    // A range that ends before the latest checkpoint: linked to every later one by consistency proofs.
    const until = all[Math.floor(all.length / 3)]!.ts;
    const early = join(out, 'early');
    expect((await runCli(['audit', 'export', '--config', ws.configPath, '--out', early, '--until', until], ws.env)).code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(early, 'manifest.json'), 'utf8')) as { range: { end: number }; proofs: Array<{ from: number; to: number; proof: string[] }> };
    expect(manifest.proofs.some((p) => p.from === manifest.range.end)).toBe(true);
    expect((await runCli(['audit', 'verify', '--bundle', early, '--key', vkey])).code).toBe(0);
    const target = manifest.proofs.find((p) => p.proof.length > 0)!;
    target.proof[0] = Buffer.alloc(32, 7).toString('base64');
    writeFileSync(join(early, 'manifest.json'), JSON.stringify(manifest));
    const forked = await runCli(['audit', 'verify', '--bundle', early, '--key', vkey, '--json']);
    expect(forked.code).toBe(3);
    expect((JSON.parse(forked.stdout) as { first: unknown }).first).toMatchObject({ check: 'consistency', checkpoint: target.to });

    // Against another key than the log's, nothing verifies; a malformed key is a usage error.
    const other = signerFromSeed('audit.e2e.example/log', randomBytes(32)).verifier.text;
    const wrong = await runCli(['audit', 'verify', '--bundle', bundle, '--key', other, '--json']);
    expect(wrong.code).toBe(3);
    expect((JSON.parse(wrong.stdout) as { first: unknown }).first).toMatchObject({ check: 'checkpoint-signature' });
    expect((await runCli(['audit', 'verify', '--bundle', bundle, '--key', 'not+a+key'])).code).toBe(2);
    // A line of the bundle edited: tampering, named.
    const lines = readFileSync(join(bundle, 'entries.jsonl'), 'utf8').split('\n');
    lines[3] = lines[3]!.replace('"v":1', '"v":2');
    writeFileSync(join(bundle, 'entries.jsonl'), lines.join('\n'));
    const vt = await runCli(['audit', 'verify', '--bundle', bundle, '--key', vkey, '--json']);
    expect(vt.code).toBe(3);
    expect((JSON.parse(vt.stdout) as { first: unknown }).first).toMatchObject({ check: 'checkpoint-root' });
  });
});
