// Added latency of an allowed MCP tools/call through the gateway, side by side with
// the same call straight to the same upstream server, in one run. The upstream is the
// test suite's notes server over Streamable HTTP (one process, both paths use it); the
// gateway runs in this process with its SQLite store (WAL, synchronous=FULL), and the
// client reaches it over the SDK's in-memory transport, so the difference is the
// gateway itself: policy, the durable decision + running record, the upstream hop, the
// durable result and its audit entries.
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { parseConfigText } from '../dist/config/load.js';
import { createLogger } from '../dist/logger.js';
import { startCore } from '../dist/app/main.js';
import { createMcpServer } from '../dist/mcp/mcp-server.js';
import { fmtUs, percentile, writeFragment, verdict } from './bench-util.mjs';
import { mcpBenchConfig, startNotesUpstream, writeMcpBenchPolicy } from './mcp-fixture.mjs';

const dir = mkdtempSync(join(tmpdir(), 'countersign-mcp-bench-'));
const { url, stop: stopUpstream } = await startNotesUpstream(dir);
writeMcpBenchPolicy(dir);
const who = { type: 'agent', id: 'bench-bot', owner: 'owner@example.com', labels: {} };
// A second gateway keeps its store in memory-backed files (tmpfs), where a commit costs
// no disk flush: the difference between the two gateways is the durable commit.
const memDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/countersign-mcp-bench-') : undefined;

async function gateway(storeFile) {
  const loaded = parseConfigText(
    mcpBenchConfig({ storeFile, dir, url }),
    join(dir, 'countersign.yaml'),
  );
  const core = await startCore(loaded, { logger: createLogger('silent') });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(core.agents.gateway, who, { listChanged: false }).connect(serverSide);
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(clientSide);
  return { core, client };
}
const durable = await gateway(join(dir, 'data', 'bench.db'));

/** p50 of one 4 KB write + fsync beside the durable store: what each of its commits waits for at least. */
function fsyncP50() {
  const fd = openSync(join(dir, 'data', 'fsync-probe'), 'w');
  const page = Buffer.alloc(4096, 1);
  const took = [];
  for (let i = 0; i < 100; i++) {
    writeSync(fd, page, 0, page.length, 0);
    const t = process.hrtime.bigint();
    fsyncSync(fd);
    took.push(Number(process.hrtime.bigint() - t));
  }
  closeSync(fd);
  return percentile(Float64Array.from(took).sort(), 50);
}
const inMemory = memDir ? await gateway(join(memDir, 'bench.db')) : undefined;
const direct = new Client({ name: 'bench', version: '1' });
await direct.connect(new StreamableHTTPClientTransport(new URL(url)));
const viaGateway = durable.client;

const args = { name: 'n' };
const once = {
  direct: async () => {
    const r = await direct.callTool({ name: 'read_note', arguments: args });
    if (r.isError) throw new Error('direct call failed');
  },
  gateway: async () => {
    const r = await viaGateway.callTool({ name: 'notes__read_note', arguments: args });
    if (r.isError) throw new Error(`gateway call failed: ${JSON.stringify(r.content)}`);
  },
  ...(inMemory
    ? {
        tmpfs: async () => {
          const r = await inMemory.client.callTool({ name: 'notes__read_note', arguments: args });
          if (r.isError) throw new Error('gateway call failed');
        },
      }
    : {}),
};
const paths = Object.keys(once);

// Interleaved rounds, so that both paths see the same machine state.
const ROUNDS = 10;
const PER_ROUND = 200;
const samples = Object.fromEntries(paths.map((k) => [k, []]));
const load0 = loadavg()[0];
const fsync0 = fsyncP50();
for (const k of paths) for (let i = 0; i < 200; i++) await once[k]();
for (let round = 0; round < ROUNDS; round++) {
  for (const k of round % 2 ? [...paths].reverse() : paths) {
    for (let i = 0; i < PER_ROUND; i++) {
      const t = process.hrtime.bigint();
      await once[k]();
      samples[k].push(Number(process.hrtime.bigint() - t));
    }
  }
}
const load1 = loadavg()[0];
const fsync1 = fsyncP50();
const d = Float64Array.from(samples.direct).sort();
const g = Float64Array.from(samples.gateway).sort();
const added50 = percentile(g, 50) - percentile(d, 50);
const added99 = percentile(g, 99) - percentile(d, 99);
const m = inMemory ? Float64Array.from(samples.tmpfs).sort() : undefined;

for (const gw of [durable, inMemory]) {
  if (!gw) continue;
  await gw.client.close();
  await gw.core.close();
}
await direct.close();
stopUpstream();
rmSync(dir, { recursive: true, force: true });
if (memDir) rmSync(memDir, { recursive: true, force: true });

const row = (name, s) => `| ${name} | ${fmtUs(percentile(s, 50))} | ${fmtUs(percentile(s, 99))} |`;
const md = `## MCP gateway

An allowed \`tools/call\` (a read-only tool, allowed by an annotation rule) through the
gateway against the same call straight to the same upstream server (Streamable HTTP,
one process), ${ROUNDS * PER_ROUND} calls each, interleaved. Through the gateway the call is decided by
policy, recorded (decision and running state in one durable write before the upstream
call, the result and its audit entries in a second), and its result redacted.

| path | p50 µs | p99 µs |
| --- | ---: | ---: |
${row('straight to the server', d)}
${row('through the gateway', g)}
${m ? `${row('through the gateway, store on tmpfs (no disk flush)', m)}\n` : ''}
Added latency: **p50 ${fmtUs(added50)} µs, p99 ${fmtUs(added99)} µs** (targets: p50 <= 1000 µs ${verdict(added50 <= 1_000_000)}, p99 <= 3000 µs ${verdict(added99 <= 3_000_000)})${
  m ? `; with the store on tmpfs, p50 ${fmtUs(percentile(m, 50) - percentile(d, 50))} µs, p99 ${fmtUs(percentile(m, 99) - percentile(d, 99))} µs: the rest is the two durable commits the invariants require: the decision and running state before the upstream call (at most once), and the result with its audit entries before the answer (nothing the agent was told may be lost to a crash)` : ''
}.

The server facing agents parses each request once: the SDK's \`Server\` parsed a \`tools/call\`
request twice and its result once more, and the gateway a third time so that bad params
answered -32602; now the one parse is where the SDK raised its error (mcp-request-guard.ts),
which cut the CPU of the SDK's client and server together from about 31 to 23 µs per call
(the two builds side by side in one process, a stub gateway, in-memory transport).
bench/mcp-cpu.mjs measures CPU per call of both paths, the figure to compare on a shared
machine, where wall-clock latency moves with the neighbours. What the gateway adds is
the decision (policy, fingerprint, one store read for an identical held call), the two
hand-offs to the store's writer thread, each waiting for its commit, and the redaction of
the result.

CPU of the gateway's main thread per call (issue 19): two builds side by side in one
process, the upstream's answer stubbed (no HTTP), the store on tmpfs, alternating chunks of
200 calls, CPU per thread from /proc; 1-minute load 7 to 11 on the 2 cores, so only the
difference between the builds means something, not the level:
- The main thread spends about 240-300 µs per call here and the writer thread about
  300 µs (two commits: writer4's part). The gateway's own code (decision, fingerprint, held
  call's read, lifecycle, redaction) is a small share of the main thread's: each piece takes
  1-5 µs in a loop of its own, 10-30 µs on the call's path, where nothing stays in the
  caches. The rest is spread thin: the SDK's protocol layers and their zod parses, promise
  chains, the two hand-offs to the writer (clone, message event, wake-up: about 50 µs of
  system CPU per call), and the garbage collector (the call allocated about 55 KB).
- Where the wall time of one call goes (marks along the path, p50, same setup, load 8):
  from the request to the decision handed to the writer 150-220 µs (of it the held-call read
  about 30 µs, policy about 25 µs), each writer round trip 250-340 µs (the commit; the one
  \`setImmediate\` before it about 6 µs), from the writer's answer to the upstream call about
  20 µs, from the upstream's answer to the second write about 50 µs, from the writer's answer
  to the reply about 25 µs. Nothing on the path
  waits on a timer; nothing can move to overlap the upstream call without sending before
  the running state is durable, and the held-call read must come before the decision (an
  identical call held for review is answered, never submitted again).
- Changed: every request goes straight to the SDK's request dispatch (its message handler
  first tried it as a result and as an error response: two zod parses that fail, about
  11 µs); \`tools/call\` is served past the SDK's per-request machinery (an \`extra\` of
  closures, a four-step promise chain, a task-parameter parse: mcp-tool-calls.ts, same
  answers, checked with the SDK's own client); the held-call path checks and fingerprints
  the input once, not twice; the finished result drops its runner without \`delete\` (which
  turned it into a slow dictionary object). Together: 5-17 µs less main-thread CPU per call
  (three runs of 8,000 calls; 2-6%), 17% less allocated per call (54.8 to 45.6 KB, V8's
  sampling heap profiler), and 816 bytes of heap per held call at the agents' server instead
  of 920 (5,000 held calls, a stub gateway): less than hoped, the request and its promise
  chain still stay.
- Tried, did not help: serving each call as one async function instead of a promise chain
  (the same 817 bytes per held call; reverted). \`--cpu-prof\` of the gateway under this
  load put a third of the main thread's samples in \`writev\` and \`postMessage\`: the
  profiler samples wall time, and those are the calls that wake another thread or process,
  where the scheduler preempts; per-thread CPU from /proc and marks along the path were the
  measures to trust. A hand-written check of tools/call params instead of zod's (1.7 µs in a
  loop) was not worth the risk of accepting what the schema refuses.
- Left: the SDK's HTTP client transport gives every upstream fetch the same abort signal,
  and undici unhooks its listener only when the request is garbage collected: between two
  collections about 1,500 listeners pile up (Node warns: MaxListenersExceededWarning), and
  each fetch lists them all (\`getEventListeners\`, tens of µs per call in the profiles).
  The agent's client here pays the same, so the added latency does not show it. The
  writer's commit CPU (about 150 µs per commit on tmpfs) and the fsync are the bulk of
  what is added. On a loaded machine the durable gateway falls further behind the tmpfs one
  than its two fsyncs explain (one run at a 1-minute load of 8: added p50 5.0 ms durable,
  1.1 ms on tmpfs, with a 4 KB fsync of 110-135 µs): the writer blocked in fsync, and each
  thread a hand-off wakes, waits for a core again. Four wake-ups per call (writer and main
  thread, twice) are the price of the two commits being off the main thread.

Where the rest went (issue 19, counted with strace, which does not move with the load):
- The gateway's store is in \`data/\`, as docs/getting-started.md lays it out, and the
  upstream's files in a folder of their own. With the store beside the policy file, the
  policy watcher (it watches that folder) woke the gateway's main thread for every WAL
  write: about 30 inotify reads and 10 wake-ups per call, during the commits, which the
  tmpfs gateway never paid. Keep the store out of the policy file's folder.
- Each commit fsyncs the WAL once and nothing else (WAL, synchronous=FULL): 1,002 fsyncs
  of the WAL on the writer thread for 1,000 commits. SQLite's automatic checkpoint ran
  inside the commit that crossed 1,000 pages, about one commit in 140 here, which then
  also copied some 70 pages into the database file and fsynced it, on that caller's path
  (about 1.4% of calls, the p99). Checkpoints now run between commits, every 128 commits
  once their callers were answered and no write waits (sqlite-checkpointer.ts, PASSIVE);
  a write arriving during one still waits for it, less often and for less of it (here the
  checkpoint overlaps the upstream call). A thread of its own would hide it entirely, for
  another V8 isolate (about 10 MB of RSS).
- The hand-off to the writer has no wait in it: a lone write goes at the end of the
  event-loop turn (one \`setImmediate\` on each side, no timer, no waiting for more work),
  and the main thread takes the reply on the next turn. The SDK's client keeps one
  keep-alive connection to the upstream, and the agents' server and client parse each
  message once. The result is stringified once, to measure it, and copied once, by the
  redaction.
- What is left besides the two fsyncs is CPU spread thin (policy, fingerprint, the held
  call's read, structured clones to the writer, SQLite's inserts of the action, its audit
  entries and tree nodes, about 7 pages a commit) on two cores shared with the upstream.

1-minute load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end (2 cores);
a 4 KB write and fsync beside the store took ${fmtUs(fsync0)} µs (p50) at the start, ${fmtUs(fsync1)} µs at
the end: each durable commit waits for one, and the disk is shared with the neighbours too.
`;
process.stdout.write(md);
writeFragment('mcp-bench', md);
