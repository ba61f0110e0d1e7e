// Submit latency with Slack, Teams and two webhooks enabled (against local fakes of
// those services), side by side with the same gateway without channels, in the same run.
// Load is open-loop at a fixed rate (an approval gateway is not run at saturation; the
// question is what channels add to each decision), for the allow path and the review
// path. Every process runs on this machine: gateways, fakes and the load generator.
// Knobs: BENCH_RATE_ALLOW, BENCH_RATE_REVIEW (per second), BENCH_SECONDS (per slice),
// BENCH_ROUNDS (slices), BENCH_PROFILE=DIR (CPU profile of the gateway with channels),
// BENCH_THREAD_NICE (channels.delivery.threadNice of the gateway with channels; default: the config's).
// Each gateway also records its event-loop delay (eld-preload.mjs), reported beside the latencies.
// The fakes stand for services on other machines: they run at the lowest scheduling priority
// (nice 19), so that on these 2 cores they take CPU from the gateways only when it is idle.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { getPriority, loadavg, setPriority, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, writeFragment, verdict } from './bench-util.mjs';
import { processCpuMs, threadCpu, threadCpuSpent } from './proc-cpu.mjs';
import { fakeCounts, startNode, writeChannelFakes } from './channels-fixture.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
/** Submissions per second: allowed actions are the gate's volume; reviews each wait for a human. */
const RATES = { allow: Number(process.env.BENCH_RATE_ALLOW ?? 200), review: Number(process.env.BENCH_RATE_REVIEW ?? 50) };
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

const eldPreload = fileURLToPath(new URL('./eld-preload.mjs', import.meta.url));

/** What was found and changed (2026-12-06, issue 19), with the figures of the runs it rests on. */
const FINDINGS = `Where the allow path's tail came from, and what changed (2026-12-06, issue 19; this machine
was at load average 6-12 from other work, so the wall-clock figures of that day are not comparable;
CPU times are):

- **The store's one writer waited on fsyncs for the dispatcher.** Each delivery round wrote about five
  small transactions (outcomes, feed, claims), and each committed with an fsync (\`synchronous=FULL\`):
  over a 2,300-request run at 200/s the gateway made 2,293 fsyncs, against about 1,000 for the decisions
  alone, and its writer thread spent 39% of the run inside commits (24% without channels; sampling
  profile). A decision that reaches the writer during one of those commits waits for its flush (0.5 to
  5 ms on this disk), then for its own: a p90/p99 effect, not a median one, and not the event loop's
  (the main thread's event-loop delay was the same with and without channels). Now the dispatcher's
  bookkeeping alone commits with \`synchronous=NORMAL\` (src/adapters/store/sqlite/sqlite-lazy-writes.ts;
  decisions and the audit log stay FULL; docs/channels.md says what a power loss can undo): the same run
  made 1,006 fsyncs, and the writer's voluntary context switches per request fell from 5-6.5 to 2.7-3.7.
- **Cross-thread messages are dear here**: a postMessage costs the sender about 30 µs in this VM (it
  wakes the other thread), and the delivery thread spent more CPU posting results than signing. Calls
  started in one event-loop turn now go to the delivery thread in one message and results come back
  per turn of the thread (5.1 calls and 3.6 results per message in a run: 0.47 messages per delivery
  instead of 2), and the dispatcher starts every event delivery that fits in one turn (a chat sync,
  which renders on the main thread, still one per turn).
- **CPU per delivery** (\`bench/channels-cpu.mjs\`, three runs each, alternating, load 10-12): main thread
  166 -> 140 µs, store writer 110 -> 65 µs, delivery thread 254 -> 182 µs, other threads (GC) 149 -> 134
  µs: 679 -> 521 µs in all (-23%). What is left on the main thread is spread thin: reading the feed
  (audit entries, the action, the event body: about 30 µs), the rounds' hand-offs to the writer (about
  five per round), a timer and an AbortController per delivery, and GC.
- **Tried or weighed, not kept**: one transaction per round (outcomes, feed and claims together) saves
  about 0.13 ms of writer CPU per commit once commits do not flush, but a decision then waits behind one
  larger transaction: with no fsync left in them, small transactions are what keeps the tail short. Not
  done for lack of time: reading the feed in the delivery thread through a read connection of its own
  (about 30 µs of main-thread CPU per delivery), and putting decisions first in the writer: a round's
  transaction and a decision handed over in the same event-loop turn share one transaction, so that
  decision waits for the bookkeeping's CPU (no longer for a flush of its own); committing the decisions
  first and the bookkeeping after needs the writer's batching and hand-off to change, which another
  helper is reworking (a transaction already running cannot be preempted either way).
- **Is x1.54 stable?** No figure of one run is. The allow p99 ratio of seven runs of this bench: x1.542
  (the recorded quiet-machine run, load 1.6-0.95), then, before the changes, x0.090 (load 1.3-3.6: the
  gateway without channels had a 344 ms p99 while a neighbour built), x0.220 (load 7.6-8.3), x3.120
  (load 8.9-8.7), and after them x2.005 (load 6.0-6.7), x1.437 (load 8.2-7.7) and x1.280 (load 10.0-8.5, the run
  recorded here). The p99 of 3,200
  requests is their 32nd slowest, and both gateways share the 2 cores with the load generator, the fakes
  and each other's background work: the ratio moves with whatever else runs. Judge it over several runs
  on a quiet machine (the median of the runs' ratios), with the CPU figures above beside it.`;

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function post(url, token, body) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = request(`${url}/v1/actions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve(Number(process.hrtime.bigint() - t) / 1e6) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}


/** Open loop: one request every 1/rate s whatever the answers, for SECONDS; returns sorted latencies (ms). */
async function load(url, token, body, rate) {
  const total = rate * SECONDS;
  const out = [];
  const pending = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(post(url, token, body).then((ms) => out.push(ms)));
  }
  await Promise.all(pending);
  return out.sort((a, b) => a - b);
}

const dir = mkdtempSync(join(tmpdir(), 'countersign-channels-bench-'));
const procs = [];
try {
  const fakes = await startNode([writeChannelFakes(dir)], {});
  procs.push(fakes.child);
  // Slack, Teams and the webhook receivers run elsewhere in production: here they yield the cores.
  setPriority(fakes.child.pid, 19);
  const fakesNice = getPriority(fakes.child.pid);
  const token = 'bench-agent-token-0123456789';
  writeFileSync(
    join(dir, 'policy.yaml'),
    'default: { outcome: deny }\nrules:\n  - id: reads\n    match: { kind: http, target: api }\n    when: http.method == "GET"\n    outcome: allow\n  - id: writes\n    match: { kind: http, target: api }\n    when: http.method == "POST"\n    outcome: review\n    review: { approvers: [group:oncall], quorum: 1, timeout: 1h }\n',
  );
  const base = (db) =>
    `listen: 127.0.0.1:0\nstore: { sqlite: ./${db}.db }\npolicy: ./policy.yaml\nagents:\n  - { id: bench-bot, token: "${token}", owner: owner@example.com }\nhumans:\n  - { id: owner@example.com, groups: [oncall] }\n  - { id: oncall@example.com, groups: [oncall], slackUserId: U0BENCH }\ntargets:\n  api: { kind: http, baseUrl: "http://127.0.0.1:9" }\nlog: { level: info }\n`;
  const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
  const channels = `channels:
  slack: { botToken: xoxb-bench-0000, signingSecret: ${randomBytes(16).toString('hex')}, teamId: TBENCH, channel: CBENCH, apiUrl: "${fakes.url}/api/" }
  teams:
    appId: 11111111-2222-3333-4444-555555555555
    appPassword: bench-password
    tenantId: 66666666-7777-8888-9999-000000000000
    serviceUrl: "${fakes.url}/teams/"
    conversationId: "19:bench@thread.tacv2"
    tokenUrl: "${fakes.url}/token"
    openIdMetadataUrl: "${fakes.url}/openid"
  webhooks:
    - { name: pager, url: "${fakes.url}/hook/1", secret: "${whsec()}" }
    - { name: tickets, url: "${fakes.url}/hook/2", secret: "${whsec()}" }
${process.env.BENCH_THREAD_NICE ? `  delivery: { threadNice: ${Number(process.env.BENCH_THREAD_NICE)} }\n` : ''}`;
  writeFileSync(join(dir, 'plain.yaml'), base('plain'));
  writeFileSync(join(dir, 'channels.yaml'), base('channels') + channels);

  const gateways = {};
  const pids = {};
  for (const name of ['plain', 'channels']) {
    const prof = process.env.BENCH_PROFILE && name === (process.env.BENCH_PROFILE_NAME ?? 'channels') ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const g = await startNode(['--import', eldPreload, ...prof, cli, 'serve', '--config', join(dir, `${name}.yaml`)], { BENCH_ELD_OUT: join(dir, `eld-${name}.json`) });
    procs.push(g.child);
    gateways[name] = g.url;
    pids[name] = g.child.pid;
  }
  const bodies = {
    allow: JSON.stringify({ kind: 'http', target: 'api', input: { method: 'GET', path: '/v1/items/42' }, mode: 'decide' }),
    review: JSON.stringify({ kind: 'http', target: 'api', input: { method: 'POST', path: '/v1/items', body: { name: 'x' } }, mode: 'decide', justification: 'benchmark' }),
  };
  // What the fakes should have received once every delivery is made: each submission is one
  // event to each of the 2 webhooks, and each review request is one Slack and one Teams post.
  const expected = { slack: 0, teams: 0, hooks: 0 };
  const expect = (path, n) => {
    expected.hooks += 2 * n;
    if (path === 'review') (expected.slack += n), (expected.teams += n);
  };
  /** Waits until the fakes got every delivery so far (at most 60 s); returns how long that took (ms). */
  async function settled() {
    const t = performance.now();
    for (;;) {
      const c = await fakeCounts(fakes.url);
      if ((c.hooks >= expected.hooks && c.slack >= expected.slack && c.teams >= expected.teams) || performance.now() - t > 60_000) return performance.now() - t;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  // Warm-up both gateways on both paths.
  for (const g of Object.values(gateways)) for (const b of Object.values(bodies)) for (let i = 0; i < 300; i++) await post(g, token, b);
  for (const path of Object.keys(bodies)) expect(path, 300);
  await settled();

  const load0 = loadavg()[0];
  const samples = { allow: { plain: [], channels: [] }, review: { plain: [], channels: [] } };
  const cpu = { allow: { plain: 0, channels: 0, fakes: 0 }, review: { plain: 0, channels: 0, fakes: 0 } };
  /** CPU ms of each gateway's main thread (the one that serves the HTTP API and decides). */
  /** Per slice of the gateway with channels: ms from its last request until its last delivery was received. */
  const lag = { allow: [], review: [] };
  const mainCpu = { allow: { plain: 0, channels: 0 }, review: { plain: 0, channels: 0 } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const path of ['allow', 'review']) {
      // Alternate which runs first, so drift favours neither.
      const order = round % 2 === 0 ? ['plain', 'channels'] : ['channels', 'plain'];
      for (const name of order) {
        const c0 = processCpuMs(pids[name]);
        const t0 = threadCpu(pids[name]);
        const f0 = processCpuMs(fakes.child.pid);
        const lat = await load(gateways[name], token, bodies[path], RATES[path]);
        // Include the background deliveries this slice caused: the gateway with channels is
        // measured until the fakes received all of them (and how long after the slice that was).
        await new Promise((r) => setTimeout(r, 500));
        if (name === 'channels') {
          expect(path, lat.length);
          lag[path].push(500 + (await settled()));
        }
        cpu[path][name] += processCpuMs(pids[name]) - c0;
        mainCpu[path][name] += (threadCpuSpent(t0, threadCpu(pids[name]))?.main ?? NaN) / 1000;
        if (name === 'channels') cpu[path].fakes += processCpuMs(fakes.child.pid) - f0;
        samples[path][name].push(...lat);
        process.stdout.write(`slice ${round + 1} ${path} ${name}: p50 ${percentile(lat, 50).toFixed(2)} ms, p99 ${percentile(lat, 99).toFixed(2)} ms\n`);
      }
    }
  }
  const counts = await fakeCounts(fakes.url);
  const load1 = loadavg()[0];
  // The gateways write their event-loop delay histograms when they stop.
  const eld = {};
  for (const name of ['plain', 'channels']) {
    const child = procs.find((p) => p.pid === pids[name]);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    try {
      eld[name] = JSON.parse(readFileSync(join(dir, `eld-${name}.json`), 'utf8'));
    } catch {
      eld[name] = undefined;
    }
  }
  // CPU per delivery, per thread, measured apart (channels-cpu.mjs): the figure that does not move with the load.
  const cpuRun = spawnSync(process.execPath, [fileURLToPath(new URL('./channels-cpu.mjs', import.meta.url))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const perDelivery = cpuRun.status === 0 ? JSON.parse(cpuRun.stdout.trim().split('\n').pop()) : undefined;
  const eldRow = (label, name) => {
    const e = eld[name];
    return e ? `| ${label} | ${e.p50} | ${e.p90} | ${e.p99} | ${e.p999} | ${e.max} |` : `| ${label} | n/a | n/a | n/a | n/a | n/a |`;
  };

  const rows = [];
  const ratios = {};
  for (const path of ['allow', 'review']) {
    const p = samples[path].plain.sort((a, b) => a - b);
    const c = samples[path].channels.sort((a, b) => a - b);
    const r50 = percentile(c, 50) / percentile(p, 50);
    const r99 = percentile(c, 99) / percentile(p, 99);
    ratios[path] = { r50, r90: percentile(c, 90) / percentile(p, 90), r99 };
    const cpuPer = (name, n) => `${(cpu[path][name] / n).toFixed(2)} | ${(mainCpu[path][name] / n).toFixed(2)}`;
    rows.push(`| ${path} | without channels | ${p.length} | ${percentile(p, 50).toFixed(2)} | ${percentile(p, 90).toFixed(2)} | ${percentile(p, 99).toFixed(2)} | ${cpuPer('plain', p.length)} | |`);
    rows.push(`| ${path} | Slack + Teams + 2 webhooks | ${c.length} | ${percentile(c, 50).toFixed(2)} | ${percentile(c, 90).toFixed(2)} | ${percentile(c, 99).toFixed(2)} | ${cpuPer('channels', c.length)} | p50 x${r50.toFixed(3)}, p90 x${(percentile(c, 90) / percentile(p, 90)).toFixed(3)}, p99 x${r99.toFixed(3)} |`);
  }
  const md = `## Channels: submit latency with Slack, Teams and webhooks enabled

Open-loop load (decide mode) at ${RATES.allow} allowed and ${RATES.review} reviewed submissions/s, in ${ROUNDS} slices of ${SECONDS} s per gateway
and path, alternating between the two gateways (and which goes first) so that both see the
same machine over time; every request's latency pooled. Both gateways run the same policy
in their own process; the one with channels posts every review request to Slack and Teams
and sends every event (all types) to two signed webhooks, against local fakes of those
services in one process. Everything shares the same 2 cores and disk: the gateways, the load
generator and the fakes, which stand for services on other machines and so run at the lowest
scheduling priority (nice ${fakesNice}; they used ${((cpu.allow.fakes + cpu.review.fakes) / (samples.allow.channels.length + samples.review.channels.length)).toFixed(2)} ms CPU per request to the gateway with channels).
Decisions never wait for a channel: deliveries are read from the audit log in the
background; a delivery round writes in a few small transactions (at most 32 outcomes or
claims, or 64 feed entries, each), so that it never holds the store's one writer for long,
and these commit without waiting for an fsync (\`synchronous=NORMAL\` for the dispatcher's
bookkeeping only: it is derived from the audit log, docs/channels.md).
The outbound calls (Slack and Teams SDKs, HTTP, webhook signatures) run in the gateway's
delivery thread, not on the main thread that serves the API and decides; that thread's nice
value is the gateway's plus ${process.env.BENCH_THREAD_NICE ?? 10} (\`channels.delivery.threadNice\`, at most 19). The bench
runs under \`nice -n ${getPriority()}\` here, so the gateways' threads are at ${getPriority()} and the delivery
thread at ${Math.min(19, getPriority() + Number(process.env.BENCH_THREAD_NICE ?? 10))}.

| Path | Gateway | Requests | p50 ms | p90 ms | p99 ms | gateway CPU ms / request | of which main thread | vs. without |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

Calls the fakes received: Slack ${counts.slack}, Teams ${counts.teams}, webhooks ${counts.hooks}
(CPU per request includes the deliveries it caused: each slice of the gateway with channels is
measured until the fakes received all of them, ${Math.round(Math.max(...lag.allow))} ms at most after its last request on the
allow path, ${Math.round(Math.max(...lag.review))} ms on the review path (medians ${Math.round(percentile(lag.allow.sort((a, b) => a - b), 50))} and ${Math.round(percentile(lag.review.sort((a, b) => a - b), 50))} ms;
the 500 ms wait given to both gateways included); the main thread serves the HTTP API and
decides, the other threads are the store's writer, the delivery thread, V8's and libuv's).

Event-loop delay of each gateway over the whole run (ms; \`monitorEventLoopDelay\`, 1 ms resolution, bench/eld-preload.mjs):

| Gateway | p50 | p90 | p99 | p99.9 | max |
| --- | ---: | ---: | ---: | ---: | ---: |
${eldRow('without channels', 'plain')}
${eldRow('Slack + Teams + 2 webhooks', 'channels')}

CPU per webhook delivery, per thread (\`bench/channels-cpu.mjs\`: allowed actions written in groups of
${perDelivery?.group ?? 'n/a'}, the actions of one dispatcher round at 200/s, then delivered to two signed webhooks; only the
delivering is counted, ${perDelivery?.deliveries ?? 'n/a'} deliveries; load average ${perDelivery?.load?.join(' to ') ?? 'n/a'}):
main thread ${perDelivery?.usPerDelivery.main ?? 'n/a'} µs, store writer ${perDelivery?.usPerDelivery.writer ?? 'n/a'} µs, delivery thread ${perDelivery?.usPerDelivery.delivery ?? 'n/a'} µs,
other threads (V8's GC and compiler helpers) ${perDelivery?.usPerDelivery.rest ?? 'n/a'} µs; ${perDelivery?.cyclesPerDelivery ?? 'n/a'} dispatcher transactions per delivery.

${FINDINGS}

Target: p99 within 25% of the gateway without channels: ${verdict(ratios.allow.r99 <= 1.25 && ratios.review.r99 <= 1.25)}
(allow x${ratios.allow.r99.toFixed(3)}, review x${ratios.review.r99.toFixed(3)}); median within 10%: ${verdict(ratios.allow.r50 <= 1.1 && ratios.review.r50 <= 1.1)}
(allow x${ratios.allow.r50.toFixed(3)}, review x${ratios.review.r50.toFixed(3)}); p90: allow x${ratios.allow.r90.toFixed(3)}, review x${ratios.review.r90.toFixed(3)}.
1-minute load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end (2 cores; the timings move with it, the ratios less so).`;
  console.log(md);
  writeFragment('channels-bench', md);
} finally {
  for (const p of procs) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
