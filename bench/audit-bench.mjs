// The verifiable audit log: (1) durable appends with the Merkle tree and checkpointing on,
// side by side with raw SQLite inserts of the same entry bytes; (2) offline verification
// of 1M entries (integrity and governance), with raw SHA-256 over 1 KiB as the physical
// reference; (3) inclusion and consistency proof generation at 1M entries.
import { hash, randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import os from 'node:os';
import process from 'node:process';
import Database from 'better-sqlite3';
import { planFromDatabase } from '../dist/adapters/audit/verify-plans.js';
import { chunksOf } from '../dist/adapters/audit/entry-source.js';
import { verifyAuditLog } from '../dist/adapters/audit/verifier.js';
import { createIntegrity, governChunk } from '../dist/adapters/audit/verify-pass.js';
import { GovernanceChecker } from '../dist/domain/audit-governance.js';
import { createAuditLogReads } from '../dist/adapters/store/sqlite/sqlite-audit-log.js';
import { openSqlite } from '../dist/adapters/store/sqlite/sqlite-db.js';
import { createSqliteStore } from '../dist/adapters/store/sqlite/sqlite-store.js';
import { encodeAuditEntry } from '../dist/domain/audit-entry.js';
import { createAction } from '../dist/domain/lifecycle.js';
import { RightEdge } from '../dist/domain/merkle.js';
import { signerFromSeed } from '../dist/domain/signed-note.js';
import { createCheckpointService } from '../dist/services/checkpoint-service.js';
import { buildAuditLog } from './audit-fixture.mjs';
import { storeCostParts } from './store-cost-parts.mjs';
import { fmtUs, percentile, sampleNs, verdict, writeFragment } from './bench-util.mjs';

const ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const WRITES = 20_000;
const IN_FLIGHT = 64;
const ROUNDS = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const n = (x) => Math.round(x).toLocaleString('en-US');
const loadStart = os.loadavg()[0];
const dir = mkdtempSync(join(tmpdir(), 'countersign-audit-bench-'));

// --- 1. Durable appends -------------------------------------------------------------------

const decision = { outcome: 'allow', rules: ['reads'], policyVersion: 'sha256:bench', reason: 'reads are allowed', requirements: [] };
function actions(count) {
  const now = new Date();
  return Array.from({ length: count }, (_, i) =>
    createAction({
      id: `act_${Date.now().toString(36)}${randomBytes(8).toString('hex')}`,
      request: { kind: 'http', target: 'orders-api', input: { method: 'GET', path: `/orders/${i}` }, mode: 'decide' },
      requester: { id: `agent-${i % 50}`, type: 'agent', owner: 'owner@example.com' },
      decision,
      now,
      idempotencyKey: randomUUID(),
    }),
  );
}

/** The allow path's writes (one action, two entries each), 64 in flight, through the store; checkpoints signed meanwhile when asked. */
async function storeRun(checkpointing, todo, i) {
  const path = join(dir, `store-${i}.db`);
  const store = createSqliteStore({ path });
  const signer = signerFromSeed('bench.example/audit', randomBytes(32));
  const cps = createCheckpointService({ log: store, store, signer, trusted: [], clock: { now: () => new Date() }, maxEntries: 10_000, maxDelayMs: 1000, slackMs: 250 });
  let signed = 0;
  let ticking = Promise.resolve();
  const timer = checkpointing ? setInterval(() => (ticking = ticking.then(() => cps.tick()).then((c) => void (c && signed++))), 250) : undefined;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let k = next++; k < todo.length; k = next++) {
        const r = await store.insertAction(todo[k].next, todo[k].audit);
        if (!r.inserted) throw new Error('not inserted');
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  await ticking;
  if (checkpointing && (await cps.tick())) signed++;
  if ((await store.treeSize()) !== 2 * todo.length) throw new Error('entries missing');
  await store.close();
  rmSync(path, { force: true });
  return { entries: (2 * todo.length) / seconds, cpuUs: (cpu.user + cpu.system) / (2 * todo.length), signed };
}

/** The same entry bytes into a bare table: same pragmas, the same 128 writes (256 entries) per transaction. */
function rawRun(todo, i) {
  const path = join(dir, `raw-${i}.db`);
  const db = openSqlite(path, 5000);
  db.exec('CREATE TABLE raw (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO raw (seq, bytes) VALUES (?, ?)');
  const bytes = todo.flatMap((t, k) => t.audit.map((d, j) => encodeAuditEntry(2 * k + j, d).bytes));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let s = 0; s < bytes.length; ) {
    db.exec('BEGIN IMMEDIATE');
    for (const end = Math.min(bytes.length, s + 256); s < end; s++) insert.run(s, bytes[s]);
    db.exec('COMMIT');
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  db.close();
  rmSync(path, { force: true });
  return { entries: bytes.length / seconds, cpuUs: (cpu.user + cpu.system) / bytes.length };
}

// `BENCH_AUDIT_ONLY=verify`: the verification part alone, printed, docs left as they are (to iterate on it).
const VERIFY_ONLY = process.env.BENCH_AUDIT_ONLY === 'verify';

async function appendsPart() {
  await storeRun(true, actions(2000), 'warm');
  const appendRuns = { cp: [], plain: [], raw: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const todo = actions(WRITES);
    appendRuns.cp.push(await storeRun(true, todo, `${r}a`));
    appendRuns.plain.push(await storeRun(false, actions(WRITES), `${r}b`));
    appendRuns.raw.push(rawRun(todo, r));
    process.stdout.write(`appends, round ${r + 1}: store+checkpoints ${n(appendRuns.cp[r].entries)}/s (${appendRuns.cp[r].signed} signed), store ${n(appendRuns.plain[r].entries)}/s, raw ${n(appendRuns.raw[r].entries)}/s\n`);
  }
  const app = Object.fromEntries(Object.entries(appendRuns).map(([k, rs]) => [k, { entries: median(rs.map((x) => x.entries)), cpuUs: median(rs.map((x) => x.cpuUs)), signed: median(rs.map((x) => x.signed ?? 0)) }]));

  // Where an append's CPU goes, step by step (one thread, no fsync).
  const parts = storeCostParts(dir);
  const load0 = os.loadavg()[0];

  // The tree's share of an append: the right edge, in memory, per entry.
  const leaves = Array.from({ length: 1_000_000 }, () => randomBytes(32));
  const edgeT0 = process.hrtime.bigint();
  const edge = new RightEdge();
  for (const l of leaves) edge.append(l);
  const edgeUs = Number(process.hrtime.bigint() - edgeT0) / 1e3 / leaves.length;
  return { app, parts, load0, edgeUs };
}
const { app, parts, load0, edgeUs } = VERIFY_ONLY ? {} : await appendsPart();

// --- 2. Verification of 1M entries ----------------------------------------------------------

const dbPath = join(dir, 'log.db');
process.stdout.write(`building a log of ${n(ENTRIES)} entries...\n`);
const built = buildAuditLog(dbPath, ENTRIES);
const plan = () => planFromDatabase(dbPath, { keys: [built.signer.verifier], witnessKeys: [], witnessDirs: [] });

const kib = Buffer.alloc(1024, 7);
function shaRate(data, count) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) hash('sha256', data[i % data.length], 'hex');
  return count / (Number(process.hrtime.bigint() - t0) / 1e9);
}
const sample = (() => {
  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare('SELECT bytes FROM audit_entries WHERE seq < 100000').pluck().all();
  db.close();
  return rows;
})();
const avgBytes = sample.reduce((s, b) => s + b.length, 0) / sample.length;
function parseRate() {
  const texts = sample.map((b) => b.toString('utf8'));
  const t0 = process.hrtime.bigint();
  for (const t of texts) JSON.parse(t);
  return texts.length / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const cpuNow = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const verify = { full: [], fullCpu: [], integrity: [], integrityCpu: [], single: [], sha1k: [], shaEntries: [], parse: [] };
for (let r = 0; r < ROUNDS; r++) {
  verify.sha1k.push(shaRate([kib], 1_000_000));
  const cpu0 = cpuNow();
  const full = await verifyAuditLog(plan());
  if (full.result !== 'verified') throw new Error(`the fixture did not verify: ${JSON.stringify(full.first)}`);
  // Both threads' CPU (process.cpuUsage counts the worker too), per entry.
  verify.fullCpu.push((cpuNow() - cpu0) / full.entries.checked);
  verify.full.push(full.entriesPerSecond);
  const cpu1 = cpuNow();
  const io = await verifyAuditLog(plan(), { governance: false });
  verify.integrityCpu.push((cpuNow() - cpu1) / io.entries.checked);
  verify.integrity.push(io.entriesPerSecond);
  verify.shaEntries.push(shaRate(sample, 1_000_000));
  verify.parse.push(parseRate());
  process.stdout.write(`verify, round ${r + 1}: full ${n(verify.full[r])}/s, integrity only ${n(verify.integrity[r])}/s, SHA-256 1 KiB ${n(verify.sha1k[r])}/s\n`);
}
verify.single.push((await verifyAuditLog(plan(), { threads: false })).entriesPerSecond);
const v = Object.fromEntries(Object.entries(verify).map(([k, xs]) => [k, median(xs)]));
const loadVerify = os.loadavg()[0];

// Each part of verification alone, in one thread, streamed as the verifier streams them
// (holding every chunk at once would add the cost of a 400 MB heap): CPU µs per entry.
const verifyParts = (() => {
  const spec = { kind: 'db', path: dbPath };
  let t = cpuNow();
  let bytes = 0;
  for (const c of chunksOf(spec, 0, built.size)) bytes += c.blob.length;
  const read = (cpuNow() - t) / built.size;
  t = cpuNow();
  const integrity = createIntegrity({ start: 0, edge: [], rootsAt: [built.size], checkNodes: false });
  for (const c of chunksOf(spec, 0, built.size)) integrity.addChunk(c);
  const integrityUs = (cpuNow() - t) / built.size - read;
  t = cpuNow();
  const g = new GovernanceChecker();
  for (const c of chunksOf(spec, 0, built.size)) governChunk(g, c, () => {});
  return { read, integrity: integrityUs, governance: (cpuNow() - t) / built.size - read, bytes };
})();

// Each thread's CPU in one full run (Linux: /proc/<pid>/task), polled every 10 ms by another
// process (this one is busy, and the worker's entry goes when it ends): the main thread and the
// worker (each reads and checks half of the log), and V8's helper threads (garbage collection,
// compilation).
const perThread = await (async () => {
  const taskDir = `/proc/${process.pid}/task`;
  if (!existsSync(taskDir)) return undefined;
  const poller = `
    const { readdirSync, readFileSync } = require('node:fs');
    const seen = {};
    const poll = () => { for (const t of readdirSync(${JSON.stringify(taskDir)})) { try { const st = readFileSync(${JSON.stringify(taskDir)} + '/' + t + '/stat', 'utf8'); const f = st.slice(st.lastIndexOf(')') + 2).split(' '); seen[t] = Number(f[11]) + Number(f[12]); } catch {} } };
    poll(); process.stdout.write(JSON.stringify(seen) + '\\n');
    const timer = setInterval(poll, 10);
    process.stdin.on('data', () => { clearInterval(timer); poll(); process.stdout.write(JSON.stringify(seen) + '\\n'); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', poller], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((r) => child.stdout.once('data', r));
  const r = await verifyAuditLog(plan());
  const done = new Promise((r2) => child.once('exit', r2));
  child.stdin.write('x');
  await done;
  const [before, after] = out.trim().split('\n').map((l) => new Map(Object.entries(JSON.parse(l)).map(([k, v]) => [Number(k), v])));
  const hz = 100; // USER_HZ: the unit of /proc/<pid>/task/<tid>/stat times
  const per = (tid) => (((after.get(tid) ?? 0) - (before.get(tid) ?? 0)) * (1e6 / hz)) / r.entries.checked;
  const fresh = [...after.keys()].filter((tid) => !before.has(tid));
  const worker = fresh.sort((a, b) => per(b) - per(a))[0];
  const helpers = [...after.keys()].filter((tid) => tid !== process.pid && tid !== worker).reduce((sum, tid) => sum + per(tid), 0);
  return { main: per(process.pid), worker: worker === undefined ? 0 : per(worker), helpers, load: os.loadavg()[0], halves: r.halves };
})();

if (VERIFY_ONLY) {
  process.stdout.write(`${JSON.stringify({ verify: v, verifyParts, perThread, load: os.loadavg()[0] }, null, 1)}\n`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

// --- 3. Proofs at 1M entries ----------------------------------------------------------------

const db = openSqlite(dbPath, 5000);
const reads = createAuditLogReads(db);
const size = reads.treeSize();
const inclusion = sampleNs(() => reads.inclusionProof(Math.floor(Math.random() * size), size), 20_000, 2000);
const consistency = sampleNs(() => reads.consistencyProof(1 + Math.floor(Math.random() * (size - 1)), size), 20_000, 2000);
const rootNs = sampleNs(() => reads.rootAt(size - Math.floor(Math.random() * 1000)), 20_000, 2000);
db.close();
rmSync(dir, { recursive: true, force: true });

const row = (name, x) => `| ${name} | ${n(x.entries)} | ${x.cpuUs.toFixed(1)} |`;
writeFragment(
  'audit-bench',
  `## Audit log: appends, verification, proofs

\`bench/audit-bench.mjs\`. Medians of ${ROUNDS} rounds. 1-minute load average at the start: ${loadStart.toFixed(1)} on 2 cores (the machine is shared).

**Durable appends.** The allow path's writes (\`insertAction\`: one action and its two entries,
with their Merkle tree nodes, in one transaction), ${IN_FLIGHT} in flight, ${n(WRITES)} actions per run,
group commit, \`synchronous=FULL\`; with the checkpoint service signing every second
meanwhile, without it, and raw SQLite inserts of the same entry bytes into a bare table
(same pragmas, 256 entries per transaction, no action rows, no tree) in the same run.

| writes | entries/s | CPU per entry (µs) |
| --- | ---: | ---: |
${row('store, tree + checkpoints signed meanwhile', app.cp)}
${row('store, tree, no checkpointing', app.plain)}
${row('raw SQLite inserts of the same bytes', app.raw)}

Target: >= 10,000 entries/s with checkpointing on ${verdict(app.cp.entries >= 10_000)}.

Where the CPU of one allowed action (two entries) goes, each step timed alone in one thread,
without fsync (\`bench/store-cost-parts.mjs\`; 1-minute load average ${load0.toFixed(1)} on 2 cores, so
compare the rows with each other rather than with other runs):

| step | CPU per action (µs) |
| --- | ---: |
${parts.map(([name, us]) => `| ${name} | ${us.toFixed(1)} |`).join('\n')}

The raw-insert row above writes prepared bytes into a table with one key and no index: it
leaves out the encoding (canonical JSON and a SHA-256 per entry), the action row with its
indexes, the copy to the writer thread and the tree. Per batch the store already pays one
BEGIN/COMMIT, one fsync and one reply message; per row, what is left is what the row is
(its canonical bytes, its hash, its index entries).

${n(app.cp.signed)} checkpoints signed per run. The tree's right edge costs ${edgeUs.toFixed(2)} µs per entry in
memory (amortized one node hash), plus one 32-byte node row per 8 entries; no read per entry.

**Verification of ${n(built.size)} entries** (\`countersign audit verify\`, from the database, ${built.checkpoints}
checkpoints): every leaf hash, sequence number, the tree, the stored tree nodes, every checkpoint's
signature and root, and governance from the entries. Entries average ${avgBytes.toFixed(0)} bytes.

| what | per second |
| --- | ---: |
| verify: integrity + governance (two threads: integrity in a worker, governance here) | ${n(v.full)} entries |
| verify: integrity + governance, one thread | ${n(v.single)} entries |
| verify \`--integrity-only\` (two threads, each half of the log) | ${n(v.integrity)} entries |
| reference: SHA-256 over 1 KiB (\`crypto.hash\`, one thread) | ${n(v.sha1k)} hashes |
| reference: SHA-256 over these entries | ${n(v.shaEntries)} hashes |
| reference: \`JSON.parse\` of these entries | ${n(v.parse)} entries |

The full run used ${v.fullCpu.toFixed(2)} µs of CPU per entry over all threads, \`--integrity-only\` ${v.integrityCpu.toFixed(2)} µs (1-minute load
average ${loadVerify.toFixed(1)} when the rounds ended; CPU time grows too on a loaded machine, whose cores and caches are shared);
500,000/s on 2 cores needs 4 µs or less, shared evenly.
${perThread ? `Per thread, in one more run (load average ${perThread.load.toFixed(1)}): the main thread, which checks governance on the
bytes the worker read (handed over, not copied), ${perThread.main.toFixed(2)} µs per entry of the log; the worker, which reads the entries
and checks their integrity, ${perThread.worker.toFixed(2)} µs; V8's helper threads (garbage collection, compilation) ${perThread.helpers.toFixed(2)} µs. The slower of the
two threads sets the pace.` : ''}
Each part alone in one thread, streamed: reading from SQLite ${verifyParts.read.toFixed(2)} µs (one query per 4,096 entries
returns them back to back, each after its 0x00 prefix, with their stored leaf hashes; a Buffer per
row would cost three times as much), integrity ${verifyParts.integrity.toFixed(2)} µs (the leaf hash, the sequence number
written inside, the stored leaf hash, and amortized one tree node hash: two \`crypto.hash\` calls,
whose per-call cost, not SHA-256 itself, dominates at these sizes), governance ${verifyParts.governance.toFixed(2)} µs (the entries
decoded in pieces of 64 KB; submissions, allow/deny decisions, reviews, execution starts and
results read by anchored expressions, picked by two characters of the entry's end, that accept
only valid JSON in the gateway's canonical shape, anything else parsed by \`JSON.parse\`, which
reports a garbled entry; the checks themselves, about a third of it, most of that looking actions
up in a map of every action of the log). The stored tree nodes are compared a page of 50,000 at a
time (one row per page) once the entries are read, and the worker takes some 50 ms of CPU to start.

What changed since 404,761 entries/s at 4.68 µs per entry (the run before, load average 1.3-1.6):
\`--integrity-only\` now splits a database's log between the threads: each reads and checks half,
and the halves are joined (verify-split.ts). RFC 9162 trees split at aligned subtrees, so every
perfect subtree inside either half is the one of the whole tree: the later half comes back as a
compact range of subtree roots (merkle-range.ts), appended to the earlier half's edge to give the
roots at the checkpoints' sizes in it and the few stored nodes that span both halves. The same
halves with governance were built too: governance of the later half checks every action begun in
it and sets aside the entries of actions begun before it, replayed against the earlier half's state
(audit-governance-range.ts), with the findings of one pass in order (tests split logs of 1 to 64
entries everywhere, untouched and tampered, and compare the reports; when the halves cannot be
joined, both checks run again in one pass over the same bytes). But they measured slower than the
worker checking integrity while the main thread checks governance: 318,000 against 361,000
entries/s (medians of six runs each, the two alternated in one process, a log of 400,000 entries,
load average 1.5-1.7), about 5.3 against 4.9 µs of CPU per entry: each thread then runs both checks
with their own caches, maps and garbage. So a full verification keeps the worker-and-main split,
and the halves serve \`--integrity-only\` and whoever asks for them (\`split\`).
The governance checker looks an entry's type up once
instead of a dozen comparisons and keeps the last action's state (an action's entries often follow
each other): 1% fewer instructions per entry (callgrind, 60.3k to 59.7k on a 100k-entry log, SHA-256
a quarter of them), more in time, since it skips a lookup in a map of every action.
Tried, no gain: SQLite's memory-mapped reads (\`mmap_size\`: 0.65-0.70 µs per entry read against
0.54-0.62), other chunk sizes (1,024 to 65,536 entries: within the noise), a larger young generation
(\`--min/max-semi-space-size\` 16-64 MB: as much time in scavenges, which follow what survives, not how
often they run). Left: scavenges, some 0.5 µs per entry measured in one thread with \`--single-threaded-gc\`
under load; the expressions that read the common entries; two \`crypto.hash\` calls per entry.
Every check is as before: a garbled or forged entry of each kind is still reported (tests in
\`src/adapters/audit/verify-pass.test.ts\`, \`entry-shapes.test.ts\` and \`verify-split.test.ts\`).

Target: >= 500,000 entries/s on 1M entries ${verdict(v.full >= 500_000)} (full verification; \`--integrity-only\`
${verdict(v.integrity >= 500_000)}).

**Proofs at ${n(size)} entries** (the stored tree nodes they need in one query, the leaf hashes of at most two blocks of 16 in one read each; nodes of 1,024 entries or more are cached once read):

| proof | median (µs) | p99 (µs) |
| --- | ---: | ---: |
| inclusion, random entry, tree of ${n(size)} | ${fmtUs(percentile(inclusion, 50))} | ${fmtUs(percentile(inclusion, 99))} |
| consistency, random size to ${n(size)} | ${fmtUs(percentile(consistency, 50))} | ${fmtUs(percentile(consistency, 99))} |
| root at a size near ${n(size)} | ${fmtUs(percentile(rootNs, 50))} | ${fmtUs(percentile(rootNs, 99))} |

Target: inclusion proof at 1M entries <= 100 µs ${verdict(percentile(inclusion, 50) <= 100_000)} (median).
`,
);
