// Durable insertAction throughput of the SQLite store: group commit (the default) against
// one transaction per write (maxBatch 1): same code, same SQL, synchronous=FULL in both,
// same run, alternating. Each write is what the allow path writes: one action, its two
// audit entries, an idempotency key. Ids are random UUIDs (worst case for the indexes)
// and, for comparison, time-ordered ones.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { createSqliteStore } from '../dist/adapters/store/sqlite/sqlite-store.js';
import { createAction } from '../dist/domain/lifecycle.js';
import { percentile, writeFragment } from './bench-util.mjs';

const IN_FLIGHT = 64;
const WRITES = 20_000;
const ROUNDS = 3;
const IDS = {
  random: () => randomUUID(),
  // UUIDv7-like: a millisecond timestamp first, so new ids land at the end of the indexes.
  'time-ordered': () => `${Date.now().toString(16).padStart(12, '0')}-${randomBytes(10).toString('hex')}`,
};
const MODES = [
  { name: 'group commit', maxBatch: undefined, ids: 'random' },
  { name: 'one transaction per write', maxBatch: 1, ids: 'random' },
  { name: 'group commit', maxBatch: undefined, ids: 'time-ordered' },
  { name: 'one transaction per write', maxBatch: 1, ids: 'time-ordered' },
];

const decision = { outcome: 'allow', rules: ['allow-reads'], policyVersion: 'sha256:bench', reason: 'reads are allowed', requirements: [] };

function records(n, ids) {
  const now = new Date();
  return Array.from({ length: n }, (_, i) =>
    createAction({
      id: IDS[ids](),
      request: { kind: 'http', target: 'orders-api', input: { method: 'GET', path: `/orders/${i}`, headers: { accept: 'application/json' } } },
      requester: { id: `agent-${i % 50}`, type: 'agent', owner: 'owner@example.com' },
      decision,
      now,
      idempotencyKey: randomUUID(),
    }),
  );
}

/** A fresh database and IN_FLIGHT closed-loop writers; latency runs from the call to the durable ack. */
async function run(mode, n) {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-store-bench-'));
  const store = createSqliteStore({ path: join(dir, 'bench.db'), ...(mode.maxBatch ? { maxBatch: mode.maxBatch } : {}) });
  const todo = records(n, mode.ids);
  const latency = new Float64Array(n);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  async function writer() {
    for (let i = next++; i < n; i = next++) {
      const t = todo[i];
      const t0 = process.hrtime.bigint();
      const r = await store.insertAction(t.next, t.audit);
      latency[i] = Number(process.hrtime.bigint() - t0);
      if (!r.inserted) throw new Error('not inserted');
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, writer));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if ((await store.auditSize()) !== 2 * n) throw new Error('audit entries missing');
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  latency.sort();
  return { rate: n / seconds, p50: percentile(latency, 50) / 1e6, p99: percentile(latency, 99) / 1e6, cpuUs: (cpu.user + cpu.system) / n };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const m of MODES) await run(m, 2000); // warm-up: JIT, file system
const results = MODES.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (const [i, m] of MODES.entries()) {
    const x = await run(m, WRITES);
    results[i].push(x);
    process.stdout.write(`${m.name}, ${m.ids} ids: ${x.rate.toFixed(0)} writes/s, p50 ${x.p50.toFixed(2)} ms, p99 ${x.p99.toFixed(2)} ms, ${x.cpuUs.toFixed(0)} µs CPU/write\n`);
  }
}

const s = results.map((rs) => ({
  rate: median(rs.map((x) => x.rate)),
  p50: median(rs.map((x) => x.p50)),
  p99: median(rs.map((x) => x.p99)),
  cpuUs: median(rs.map((x) => x.cpuUs)),
}));
const rows = MODES.map(
  (m, i) => `| ${m.name}${m.maxBatch ? ` (maxBatch ${m.maxBatch})` : ' (default)'} | ${m.ids} | ${s[i].rate.toFixed(0)} | ${s[i].p50.toFixed(2)} | ${s[i].p99.toFixed(2)} | ${s[i].cpuUs.toFixed(0)} |`,
);
const ratio = (a, b) => (a / b).toFixed(1);

writeFragment(
  'store-bench',
  `## Store: durable writes (SQLite, group commit)

\`bench/store-bench.mjs\`. Each write is \`insertAction\` of an allowed action with its two audit
entries (submitted, decided) and a random idempotency key, as on the allow path. ${IN_FLIGHT} writers in
flight, ${WRITES} writes per run, a fresh database per run, WAL with \`synchronous=FULL\` in every mode;
a write counts once its transaction committed. Both modes run the same code and SQL: only the batch
size differs. Medians of ${ROUNDS} alternating runs; CPU is the process's user + system time per write.

| mode | action ids | writes/s | p50 (ms) | p99 (ms) | CPU per write (µs) |
| --- | --- | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Group commit against one transaction per write: **${ratio(s[0].rate, s[1].rate)}x** the throughput with random
ids, **${ratio(s[2].rate, s[3].rate)}x** with time-ordered ids; p99 ${ratio(s[1].p99, s[0].p99)}x and ${ratio(s[3].p99, s[2].p99)}x lower.
This machine's disk acknowledges an fsync in about 0.1 ms; where an fsync takes milliseconds, one
transaction per write falls to a few hundred writes/s while a batch still pays one fsync for all.
The writes run on the event loop: the CPU per write above is what the allow path pays for storage.
`,
);
