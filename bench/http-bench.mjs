// The allow path: POST /v1/actions in decide mode, every decision durable and audited,
// driven by autocannon, side by side with a bare Fastify POST endpoint in the same run.
// Both servers run in their own process; autocannon runs here (same 2 cores: the load
// generator is included, as in the target).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verdict, writeFragment } from './bench-util.mjs';
import { writeAllowPathFixture } from './allow-path-fixture.mjs';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Starts a child process and resolves with its URL once it prints one. */
function startProcess(args, env, match) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c) => {
      buf += c;
      const m = match(buf);
      if (m) resolve({ child, url: m });
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
  });
}

async function load(url, opts) {
  let peakRss = 0;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, rssMb(opts.pid))), 250);
  // Warm-up, then the measured run.
  await autocannon({ url, duration: 2, connections: CONNECTIONS, ...opts.request });
  const r = await autocannon({ url, duration: DURATION, connections: CONNECTIONS, ...opts.request });
  clearInterval(timer);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, peakRss };
}

const bareSrc = `
import Fastify from 'fastify';
const app = Fastify();
app.post('/v1/actions', async (req, reply) => reply.status(201).send({ id: 'x', status: 'approved', echo: req.body.kind }));
const addr = await app.listen({ host: '127.0.0.1', port: 0 });
console.log('URL ' + addr);
`;

const loadStart = loadavg()[0];
const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-'));
try {
  const barePath = join(dir, 'bare.mjs');
  writeFileSync(barePath, bareSrc.replace("from 'fastify'", `from '${fileURLToPath(new URL('../node_modules/fastify/fastify.js', import.meta.url))}'`));
  const { configPath, request } = writeAllowPathFixture(dir);

  const bare = await startProcess([barePath], {}, (b) => /URL (\S+)/.exec(b)?.[1]);
  const bareRes = await load(`${bare.url}/v1/actions`, { pid: bare.child.pid, request });
  bare.child.kill();

  // BENCH_CPU_PROF=<dir>: the gateway writes V8 CPU profiles there (main and writer thread) when it stops.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const gw = await startProcess([...prof, cli, 'serve', '--config', configPath], {}, (b) => /"url":"([^"]+)"/.exec(b)?.[1]);
  const gwRes = await load(`${gw.url}/v1/actions`, { pid: gw.child.pid, request });
  await new Promise((resolve) => {
    gw.child.once('exit', resolve);
    gw.child.kill('SIGTERM');
  });

  const row = (name, r) => `| ${name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50} | ${r.p99} | ${r.peakRss.toFixed(0)} | ${r.non2xx} | ${r.errors} |`;
  const md = `## Allow path: POST /v1/actions (decide mode), durable and audited

autocannon, ${CONNECTIONS} connections, ${DURATION} s after a 2 s warm-up, load generator on the same machine.
1-minute load average at the start: ${loadStart.toFixed(1)} on 2 cores (the machine is shared: the ratio is the comparable figure).
Every Countersign response is sent only after the action and its two audit entries
(submitted, decided) committed to SQLite (WAL, synchronous=FULL) through group commit.

| Server | Requests/s | p50 ms | p99 ms | Peak RSS MB | non-2xx | errors |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${row('Bare Fastify POST endpoint (baseline)', bareRes)}
${row('Countersign allow path', gwRes)}

Countersign serves **${((gwRes.rps / bareRes.rps) * 100).toFixed(1)}%** of the bare endpoint's throughput
(ratio ${(gwRes.rps / bareRes.rps).toFixed(3)}).

Targets: >= 10,000 decisions/s ${verdict(gwRes.rps >= 10_000)}; p99 <= 20 ms ${verdict(gwRes.p99 <= 20)};
RSS <= 150 MB ${verdict(gwRes.peakRss <= 150)}. The targets assume a bare Fastify endpoint at about
60,000 requests/s; here it serves ${Math.round(bareRes.rps).toLocaleString('en-US')}, and the ratio above is the comparable figure.

Where the time goes (CPU profiles of the gateway under this load, \`BENCH_CPU_PROF=<dir>\`, taken
on 2026-12-06 with a 1-minute load average near 20 on the 2 cores; shares of each thread's busy time):

- The HTTP thread has no single hot spot: garbage collection 10%, socket writes 7%, handing each
  write to the writer thread (\`postMessage\`, a structured clone of the action and its two drafts) 6%,
  the action and its fingerprint (canonical JSON, SHA-256) 5%, the http input checks (path rules,
  query encoding) 4%, the JSON body 3%; the rest is Fastify's routing, hooks, validation and
  serialization, each under 1-2%. Copying a write as a JSON string instead of a structured clone
  was measured no cheaper (16-17 µs per action both ways, either way); the packed hand-off below
  replaced the clone of a new action since.
- The writer thread spends about half its time inside COMMIT (the fsync; on this shared disk an
  fsync took 2-5 ms at p50 during the run, against 0.1 ms when the machine is quiet), and 18% in
  \`insertAction\`: encoding the two entries was the largest part of it and now costs half as much
  (see the audit section's step table). The fsync stays: a decision is durable before it is answered.
- Memory (measured on 2026-12-06, load average 12-15 on the 2 cores; RSS from /proc, heaps from
  \`process.memoryUsage()\` and \`v8.getHeapSpaceStatistics()\` in each thread): a started gateway with this
  config holds 127-131 MB. 45 MB of it is the node binary and its libraries (file-backed, shared); the
  83 MB private is the HTTP thread's V8 heap, 59 MB (the young generation 32 MB: two 16 MB
  semi-spaces, V8's default maximum, reached during start; the old space 25 MB, almost all the
  module graph's source text and bytecode: a heap snapshot taken under this load after a full
  collection holds no request data), the writer thread's isolate, about 23 MB (its heap 10 MB; it
  imports 29 modules, no zod or Fastify), SQLite's page caches (two connections, the default 2 MiB
  cache each, no mmap) and the allocator's arenas.
- Under load the HTTP thread's old space fills with promoted garbage: \`--trace-gc\` shows no full
  collection on that thread during the measured run (only the two during start), so it climbs from
  25 MB to 60-70 MB; a full collection under load leaves 25 MB live (34 MB before the cut below).
  The writer's heap reaches 21 MB.
- Cut: the wiring imported every optional part whatever the config: the PostgreSQL store and
  driver, postgres targets, libpg-query, the wire gateway, command targets and runners (with
  undici), the console, OIDC (jose, openid-client), the CLI's other commands (the demo's
  database, store copy, audit tools) and pino-pretty for JSON logs. Each now loads only when the
  config enables it (\`test/e2e/optional-parts.test.ts\` checks it with a module-loading hook): \`serve\`
  imports 357 ES modules instead of 570 and holds 12-16 MB less after start (127-131 MB against
  140-145 MB) and 8-20 MB less at peak (alternating runs of the previous and the new build, 6-12 s
  of this load each; the peak follows the throughput, which the load on the machine moved).
- The young generation is a start-up setting of V8 (\`v8.setFlagsFromString\` has no effect later):
  \`NODE_OPTIONS=--max-semi-space-size=4\` shrinks it to 8 MB; with the cut above, 105 MB after start
  and 136 MB at peak against 128 and 155 MB without it (same load, one run each), for about a
  tenth more CPU per decision (docs/reliability.md). It stays a deployment option
  (docs/operations.md, Memory); without it this bench does not reach 150 MB.
- The CPU budget (2026-12-06, \`bench/http-cpu.mjs\` and the bare endpoint measured the same way, load
  average 1 to 10): a decision costs the gateway 164-176 µs of CPU over all its threads (the HTTP
  thread 86-93 µs, the writer 65-70 µs); autocannon spends about 32 µs per request and the bare
  endpoint 39 µs. Two cores give 2,000,000 µs of CPU a second, so with both fully busy the allow path
  could not pass about 2,000,000 / (170 + 32) ≈ 9,900 decisions/s, and 40% of the bare endpoint
  (about 2.5 times its CPU per request, load generator included) would leave the whole decision about
  80 µs: what the writer alone spends on the action's row, its indexes, the two entries and the tree.
  Throughput stays below that bound because the cores are not both busy all the time: with 64
  connections, about half the requests wait in the batch whose fsync is in flight (a store on tmpfs
  served 6,700/s where the disk served 4,000-5,000/s at load average 10).
- Garbage per decision (V8's sampling heap profiler with collected objects kept, and
  \`--trace-gc-nvp\` allocation totals): \`Array.prototype.sort\` in canonical JSON allocated its merge
  state on every object (over a quarter of the writer thread's allocation), and Fastify made a pino
  child logger per request (a twelfth of the HTTP thread's), which a 2xx at level info never writes
  to. Small key lists are now sorted in place, and a request's logger becomes a pino child only when
  a line is written: 38.4 → 34.1 KB allocated per request on the HTTP thread and 26.0 → 18.9 KB on
  the writer. CPU per decision moved within the noise of the shared machine.
- The old space: V8 lets it grow to about four times what its last full collection left live before
  collecting again. Capping that growth (\`memory.heapGrowthPercent\`, V8's \`--heap-growing-percent\`,
  which \`countersign serve\` sets at start) at 25 held this bench's peak at 174 MB instead of
  239-245 MB, but made full collections frequent: in alternating runs on a quiet machine (load average
  about 2) its p99 rose from 16-23 ms to 26-34 ms and its CPU per decision by about a tenth; at 100, 187 MB
  and 21-22 ms. The cap is therefore off by default and part of the configuration for many waiting
  agents (docs/operations.md), where the garbage it bounds is hundreds of MB.
- The hand-off to the writer thread (2026-12-06, load average 5-9 on the 2 cores). A new action went
  to the writer as a structured clone of the record and its two drafts, and the writer then wrote the
  record's JSON (\`rowOf\`) and the entries' canonical JSON itself. V8's serializer costs by the object
  more than by the byte: posted to a worker in batches of 8 (per-thread CPU from /proc), that clone
  cost 4.6-5.2 µs to send and 6.3-7.9 µs to receive per action; the same fields as nested objects
  about 8 µs both ends; as one flat array of strings and numbers about 3 µs. Now the HTTP thread
  packs a new action into such an array (\`sqlite-packed-action.ts\`: the row's columns, the record's
  JSON, each entry's canonical JSON split around its sequence number, which only the writer knows, in
  its transaction), and the writer only splices the sequence numbers into the record's JSON and the
  entries' bytes before hashing them: nothing is serialized twice, and the writer builds no record,
  draft or entry objects. \`bench/http-cpu.mjs\`, three alternating pairs of the previous and the new
  build, two rounds of 20,000 decisions each: the writer thread 62-78.5 µs per decision (median 72.5)
  → 45-58.5 (median 47.5); the HTTP thread 86.5-114 (median 108.5) → 102.5-145 (median 111), within
  the noise but up by what packing costs there (\`packAction\` 9 µs alone, 7 µs after the canonical JSON cut below, against 5 µs for sending
  the clone); all threads 163.5-200 (median 198) → 159-219 (median 171); again with the
  final build of this change (load average 3-5): the writer 70-98 (median 87.5) → 50-67.5 (57.8), the
  HTTP thread 96-144 (123.3) → 113.5-155 (133.5), all threads 179-252.5 (224.8) → 173.5-237.5 (202). So
  the writer's CPU per decision fell by a third, the HTTP thread's rose by up to a tenth, the whole
  decision's fell by a tenth or more. One step at a time
  (\`bench/store-cost-parts.mjs\`, one thread, copied through a MessageChannel): the action's insert
  19.6 → 14.0 µs, the two entries' append 19.6 → 13.6 µs, the copy with unpacking 10.4 → 10.3-15.7 µs,
  and the packing 13.6-18.3 µs on the sending side; in that one-thread bench with 20,000 live
  records (garbage collection included) the sum is no lower than before: the gain the gateway shows
  is not explained step by step; fewer objects on the writer's small heap (its young generation is
  capped at 8 MB) is the likely difference, not verified. The packed form is private to the SQLite store: its
  ops unpack it, the PostgreSQL store keeps its own rows. This bench alternating the two builds
  (load average 5-6, one run each): the previous build 2,738 and 4,128 decisions/s (p99 77 and
  51 ms), the new one 3,706 and 4,319 (p99 144 and 51 ms): within the noise of the shared machine.
- Smaller cuts on the same path: canonical JSON quotes a string with no quote, backslash, control
  or surrogate as it is (one regex test instead of two native calls: two audit envelopes 5.4 →
  4.1 µs; the fingerprint on the HTTP thread gains too); a batch's reply carries the results by
  position with the failures apart, not an \`{ok, value}\` object per write (0.6 µs a write over both
  threads); the writer thread is ref'd and unref'd only when that changes, not on every write.
- Tried, no gain: the \`actions\` indexes are not where an insert's time goes. The row with all six
  costs 5.8 µs in a WAL file (3.9 µs in memory, better-sqlite3, 20,000 rows in batches of 128), and
  leaving out any one of them saves at most 0.3-0.5 µs; none can become partial, since
  \`listActions\` filters by any status, by requester or by nothing, and an allowed decide-mode action
  writes no audience row and no partial index entry already. Sending the record and drafts as one
  JSON string (parsed by the writer) cost 1 µs more over both threads than the clone; sending the
  row and the record's JSON packed but the drafts as objects saved under 2 µs.`;
  console.log(md);
  writeFragment('http-bench', md);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
