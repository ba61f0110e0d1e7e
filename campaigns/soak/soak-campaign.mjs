#!/usr/bin/env node
// The soak campaign (docs/reliability.md).
//
//   npm run campaign:soak -- --minutes 60 [--rate 200]     sustained mixed load
//   npm run campaign:soak -- --waiters 10000               many waiters, then bulk approval
//
// Sustained load: a fixed rate of mixed work (allowed executions, reviews approved,
// reads, lists, denials), open loop, against a real gateway; every --sample-seconds the
// gateway's RSS, heap, event-loop delay (max over the interval) and open handles are
// written to a CSV, with an SVG chart beside it. Pass: no error; no event-loop stall
// over --max-stall-ms; memory flat after warm-up (the mean RSS of the last third of the
// samples is within --max-growth-pct of the middle third's, and the heap's least-squares
// slope over the samples after warm-up is under --max-heap-mb-per-min).
//
// Many waiters: N agents waiting on actions held for review at once, then all approved
// in bulk; RSS and event-loop delay sampled throughout. A share of them (--mcp-share,
// default a half) are MCP holds: tools/call through the gateway's MCP endpoint over
// Streamable HTTP, held until the review (mcp.hold), then run on the upstream MCP server
// (test/mcp/notes-server.mjs over stdio); the others long-poll an HTTP action (GET ?wait).
// Pass: every waiter answered with the approval (MCP: the tool's own result), RSS <=
// --max-rss-mb, no stall over --max-waiter-stall-ms. The run is cut in phases (submit,
// open, held, waiting, approve, answer: many-waiters.mjs), each reported with its time,
// worst stall, the gateway's CPU time and RSS. --heap-snapshot writes a heap snapshot
// of the gateway while all of them wait (what each waiter costs); --cpu-prof has the
// gateway write a CPU profile, whose long tasks long-tasks.mjs lists.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, setGlobalDispatcher } from 'undici';
import { parseArgs } from '../lib/args.mjs';
import { canaryReport, newCanary } from '../lib/canaries.mjs';
import { startCountingTarget } from '../lib/counting-target.mjs';
import { call, startGateway } from '../lib/gateway.mjs';
import { manyWaiters } from './many-waiters.mjs';
import { chartSvg } from './soak-chart.mjs';
import { processCpuMs } from '../../bench/proc-cpu.mjs';

const args = parseArgs(process.argv.slice(2), {
  minutes: 5,
  rate: 200,
  sampleSeconds: 5,
  warmupSeconds: 60,
  maxStallMs: 100,
  maxGrowthPct: 10,
  maxHeapMbPerMin: 1,
  waiters: 0,
  maxRssMb: 300,
  maxWaiterStallMs: 50,
  mcpShare: 0.5,
  concurrency: 16,
  openChunk: 25,
  approveConcurrency: 4,
  callTimeoutMs: 300_000,
  heldTimeoutSeconds: 600,
  heapSnapshot: false,
  cpuProf: false,
  nodeArgs: '',
  out: '',
  quiet: false,
});
const say = (s) => !args.quiet && process.stdout.write(`${s}\n`);
/** Every sample taken, in order. */
const samples = [];
// Thousands of concurrent long polls from one process: no per-origin connection cap.
setGlobalDispatcher(new Agent({ connections: null, pipelining: 0, headersTimeout: 0, bodyTimeout: 0, connect: { timeout: 60_000 } }));

const POLICY = `
default: { outcome: deny }
rules:
  - id: reads
    match: { kind: http, target: api }
    when: http.method == "GET"
    outcome: allow
  - id: writes
    match: { kind: http, target: api }
    when: http.method == "POST"
    outcome: review
    review: { approvers: [group:ops], quorum: 1, timeout: 1h }
  - id: notes
    match: { kind: mcp, target: notes }
    when: mcp.tool == "write_note"
    outcome: review
    review: { approvers: [group:ops], quorum: 1, timeout: 1h }
`;
const NOTES_SERVER = fileURLToPath(new URL('../../test/mcp/notes-server.mjs', import.meta.url));


function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The gateway's own figures from /metrics (prom-client default metrics). */
async function metrics(url) {
  const text = (await call(url, '/metrics')).text;
  const get = (name) => {
    const m = new RegExp(`^countersign_${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return {
    heapMb: get('nodejs_heap_size_used_bytes') / 2 ** 20,
    // Where RSS goes beside the live heap: what V8 holds committed, and memory outside it.
    heapTotalMb: get('nodejs_heap_size_total_bytes') / 2 ** 20,
    externalMb: get('nodejs_external_memory_bytes') / 2 ** 20,
    loopMaxMs: get('nodejs_eventloop_lag_max_seconds') * 1000,
    loopP99Ms: get('nodejs_eventloop_lag_p99_seconds') * 1000,
    handles: get('nodejs_active_handles_total'),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-soak-'));
  const labels = new Map();
  const canary = (what) => {
    const v = newCanary();
    labels.set(v, what);
    return v;
  };
  const secrets = { agent: canary('agent-token'), alice: canary('alice-token'), target: canary('target-credential') };
  const target = await startCountingTarget();
  const configPath = join(dir, 'countersign.yaml');
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  writeFileSync(
    configPath,
    `listen: 127.0.0.1:0
store: { sqlite: ./countersign.db }
policy: ./policy.yaml
agents:
  - { id: soak-bot, token: "\${T_AGENT}", owner: owner@example.com }
humans:
  - { id: alice@example.com, groups: [ops, auditor], token: "\${T_ALICE}" }
  - { id: owner@example.com, groups: [owners] }
targets:
  api: { kind: http, baseUrl: "${target.url}/api", headers: { Authorization: "Bearer \${T_TARGET}" }, timeout: 10s }
server: { maxWaitSeconds: 300 }
mcp:
  servers:
    notes: { command: "${process.execPath}", args: ["${NOTES_SERVER}"], env: { NOTES_DIR: "${join(dir, 'notes')}" } }
  hold: 290s
  progressInterval: 60s
audit: { signingKeyFile: ./audit-signing.key }
log: { level: info }
`,
  );
  const env = { T_AGENT: secrets.agent, T_ALICE: secrets.alice, T_TARGET: secrets.target };
  mkdirSync(join(dir, 'notes'));
  // --node-args "--max-semi-space-size=4 ...": V8 and Node flags for the gateway (experiments).
  const nodeArgs = args.nodeArgs ? args.nodeArgs.split(/\s+/).filter(Boolean) : [];
  if (args.heapSnapshot) nodeArgs.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`);
  // The profile is written when the gateway stops; out of the scanned directory (it names no secret, but it is large).
  const profDir = args.cpuProf ? mkdtempSync(join(tmpdir(), 'countersign-waiters-prof-')) : undefined;
  if (profDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
  const gw = await startGateway({ configPath, env, logFile: join(dir, 'gateway.log'), nodeArgs });
  const counters = { done: 0, errors: 0, inFlight: 0 };
  const errors = [];
  const started = Date.now();
  const sample = async () => {
    const m = await metrics(gw.url).catch(() => ({ heapMb: NaN, heapTotalMb: NaN, externalMb: NaN, loopMaxMs: NaN, loopP99Ms: NaN, handles: NaN }));
    const s = { t: Math.round((Date.now() - started) / 1000), at: Date.now(), phase: phases.current, rssMb: rssMb(gw.pid), cpuMs: processCpuMs(gw.pid), ...m, done: counters.done, errors: counters.errors, inFlight: counters.inFlight };
    samples.push(s);
    return s;
  };
  const phases = phaseClock(samples, sample);
  await sample(); // resets the event-loop figures so the first interval starts now

  let report;
  if (args.waiters > 0) report = await manyWaiters({ gw, secrets, args, counters, sample, phases, say, takeHeapSnapshot: (label) => heapSnapshot(gw, dir, label) });
  else report = await sustained({ gw, secrets, counters, errors, sample });

  await gw.stop(args.cpuProf ? 120_000 : 10_000);
  await target.close();
  // One profile per thread: the main thread's (thread 0) is the event loop's; the other is the store's writer.
  if (profDir) say(`CPU profiles of the gateway: ${readdirSync(profDir).map((f) => join(profDir, f)).join(', ') || '(none written)'} (node campaigns/soak/long-tasks.mjs PROFILE)`);
  const leaks = canaryReport(dir, [...labels].map(([value, label]) => ({ value, label })));
  const base = args.out || join(dir, args.waiters ? `waiters-${args.waiters}` : `soak-${args.minutes}min`);
  const cols = ['t', 'phase', 'rssMb', 'cpuMs', 'heapMb', 'heapTotalMb', 'externalMb', 'loopMaxMs', 'loopP99Ms', 'handles', 'done', 'errors', 'inFlight'];
  writeFileSync(`${base}.csv`, `${cols.join(',')}\n${samples.map((s) => cols.map((c) => (typeof s[c] === 'number' ? +s[c].toFixed(2) : s[c])).join(',')).join('\n')}\n`);
  writeFileSync(`${base}.svg`, chartSvg(samples, args.waiters ? `${args.waiters} waiters, then bulk approval` : `soak: ${args.rate}/s for ${args.minutes} min`));
  const result = { campaign: args.waiters ? 'waiters' : 'soak', args, ...report, canaryLeaks: leaks.found.length, errorsSample: errors.slice(0, 20) };
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  const failed = !report.pass || leaks.found.length > 0;
  process.stdout.write(`${report.summary}${leaks.found.length ? `, canary leaks ${leaks.found.length}` : ''}: ${failed ? 'FAIL' : 'pass'} (${base}.csv, .svg, .json)\n`);
  if (!args.out && !failed) say(`kept in ${dir}`);
  else if (!failed) rmSync(dir, { recursive: true, force: true });
  process.exitCode = failed ? 1 : 0;
}

async function sustained({ gw, secrets, counters, errors, sample }) {
  const endAt = Date.now() + args.minutes * 60_000;
  let n = 0;
  const op = async () => {
    const i = n++;
    const kind = i % 20;
    counters.inFlight++;
    try {
      if (kind < 11) {
        const r = await call(gw.url, '/v1/actions', { method: 'POST', token: secrets.agent, body: { kind: 'http', target: 'api', input: { method: 'GET', path: `/items/${i}` } } });
        if (r.status !== 201) throw new Error(`submit ${r.status}`);
      } else if (kind < 14) {
        const r = await call(gw.url, '/v1/actions', { method: 'POST', token: secrets.agent, body: { kind: 'http', target: 'api', input: { method: 'POST', path: `/refunds/${i}`, body: { n: i } } } });
        if (r.status !== 201) throw new Error(`review submit ${r.status}`);
        const a = await call(gw.url, `/v1/actions/${r.json.id}/approve`, { method: 'POST', token: secrets.alice, body: { fingerprint: r.json.fingerprint } });
        if (a.status !== 200) throw new Error(`approve ${a.status}`);
      } else if (kind < 16) {
        const r = await call(gw.url, '/v1/actions', { method: 'POST', token: secrets.agent, body: { kind: 'http', target: 'api', input: { method: 'DELETE', path: `/items/${i}` } } });
        if (r.status !== 201) throw new Error(`deny ${r.status}`);
      } else if (kind < 18) {
        const r = await call(gw.url, '/v1/actions?limit=20', { token: secrets.agent });
        if (r.status !== 200) throw new Error(`list ${r.status}`);
      } else {
        const r = await call(gw.url, '/v1/actions?limit=1', { token: secrets.alice });
        if (r.status !== 200) throw new Error(`list ${r.status}`);
      }
      counters.done++;
    } catch (e) {
      counters.errors++;
      if (errors.length < 100) errors.push(String(e.message ?? e));
    } finally {
      counters.inFlight--;
    }
  };
  // Open loop: a tick every 20 ms starts rate/50 operations, however slow the answers.
  const perTick = args.rate / 50;
  let owed = 0;
  const ticker = setInterval(() => {
    owed += perTick;
    while (owed >= 1) {
      owed--;
      void op();
    }
  }, 20);
  let last = Date.now();
  while (Date.now() < endAt) {
    await new Promise((r) => setTimeout(r, args.sampleSeconds * 1000));
    const s = await sample();
    if (Date.now() - last > 60_000 || !args.quiet) {
      say(`${s.t}s: rss ${s.rssMb.toFixed(0)} MB, heap ${s.heapMb.toFixed(0)} MB, loop max ${s.loopMaxMs.toFixed(1)} ms, done ${s.done}, errors ${s.errors}`);
      last = Date.now();
    }
  }
  clearInterval(ticker);
  while (counters.inFlight > 0) await new Promise((r) => setTimeout(r, 50));
  const after = samples.filter((s) => s.t >= args.warmupSeconds);
  const third = Math.floor(after.length / 3);
  const mean = (xs) => xs.reduce((a, s) => a + s.rssMb, 0) / Math.max(1, xs.length);
  const middle = mean(after.slice(third, 2 * third));
  const lastThird = mean(after.slice(2 * third));
  const growthPct = third ? (100 * (lastThird - middle)) / middle : NaN;
  const slope = heapSlopeMbPerMin(after);
  const worstStall = Math.max(...samples.slice(1).map((s) => s.loopMaxMs).filter(Number.isFinite));
  const achieved = counters.done / (args.minutes * 60);
  const pass = counters.errors === 0 && worstStall <= args.maxStallMs && (Number.isNaN(growthPct) || growthPct <= args.maxGrowthPct) && (Number.isNaN(slope) || slope <= args.maxHeapMbPerMin);
  return {
    pass,
    operations: counters.done,
    errors: counters.errors,
    achievedPerSecond: +achieved.toFixed(1),
    worstStallMs: +worstStall.toFixed(1),
    rssGrowthPct: +growthPct.toFixed(2),
    heapSlopeMbPerMin: +slope.toFixed(3),
    peakRssMb: +Math.max(...samples.map((s) => s.rssMb)).toFixed(0),
    summary: `soak ${args.minutes} min at ${args.rate}/s (achieved ${achieved.toFixed(0)}/s): operations ${counters.done}, errors ${counters.errors}, worst event-loop stall ${worstStall.toFixed(1)} ms, RSS growth after warm-up ${growthPct.toFixed(1)}%, heap slope ${slope.toFixed(2)} MB/min`,
  };
}

function heapSlopeMbPerMin(xs) {
  if (xs.length < 3) return NaN;
  const n = xs.length;
  const mx = xs.reduce((a, s) => a + s.t, 0) / n;
  const my = xs.reduce((a, s) => a + s.heapMb, 0) / n;
  const num = xs.reduce((a, s) => a + (s.t - mx) * (s.heapMb - my), 0);
  const den = xs.reduce((a, s) => a + (s.t - mx) ** 2, 0);
  return (num / den) * 60;
}

/**
 * Named phases of a run: each sample is tagged with the phase it was taken in (its
 * interval's event-loop max belongs to that phase), and entering a phase takes a sample
 * first, so that no interval straddles two phases.
 */
function phaseClock(samples, sample) {
  const done = [];
  let current = 'start';
  let startedAt = Date.now();
  return {
    samples,
    get current() {
      return current;
    },
    startedAt: () => startedAt,
    last: () => done.at(-1),
    async enter(name) {
      const s = await sample();
      done.push({ phase: current, ms: Date.now() - startedAt });
      current = name;
      startedAt = Date.now();
      return s;
    },
    table() {
      return done
        .filter((p) => p.phase !== 'start')
        .map((p) => {
          const mine = samples.filter((s) => s.phase === p.phase);
          const before = samples[samples.indexOf(mine[0]) - 1];
          const end = mine.at(-1);
          const stalls = mine.map((s) => s.loopMaxMs).filter(Number.isFinite);
          return {
            phase: p.phase,
            ms: p.ms,
            worstStallMs: stalls.length ? +Math.max(...stalls).toFixed(1) : NaN,
            intervalsOver50: stalls.filter((x) => x > 50).length,
            cpuMs: before && end ? Math.round(end.cpuMs - before.cpuMs) : NaN,
            rssEndMb: end ? +end.rssMb.toFixed(0) : NaN,
            heapEndMb: end ? +end.heapMb.toFixed(0) : NaN,
          };
        });
    },
  };
}

/** SIGUSR2 makes the gateway write a heap snapshot (--heapsnapshot-signal); moved out of the scanned directory. */
async function heapSnapshot(gw, dir, label) {
  process.kill(gw.pid, 'SIGUSR2');
  const deadline = Date.now() + 300_000;
  for (;;) {
    const f = readdirSync(dir).find((x) => x.endsWith('.heapsnapshot'));
    // Written in one go: its size stops changing when done.
    if (f) {
      const a = readFileSync(join(dir, f)).length;
      await new Promise((r) => setTimeout(r, 2000));
      if (a > 0 && readFileSync(join(dir, f)).length === a) {
        const to = join(tmpdir(), `countersign-waiters-${args.waiters}-${process.pid}-${label}.heapsnapshot`);
        renameSync(join(dir, f), to);
        say(`heap snapshot: ${to}`);
        return to;
      }
    }
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

main().catch((e) => {
  process.stderr.write(`soak campaign failed to run: ${e.stack ?? e}\n`);
  process.exit(2);
});
