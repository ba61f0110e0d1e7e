// Command actions, side by side in one run: the latency an allowed command gains by going
// through the gateway, against running the same program directly (child_process.spawn,
// argv, no shell), one at a time. Through the gateway: an agent's POST /v1/actions?wait=30
// (one round trip) to a real `countersign serve` process (dist/) that runs it itself
// (`runner: local`), and to one whose runner (`countersign runner`, a second process on
// this machine, connected by HTTP long polling) runs it. The program is /bin/echo: its
// own cost is the spawn, so what is left is the gateway's.
// Every process is stopped at the end, also when the benchmark fails.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtUs, percentile, writeFragment } from './bench-util.mjs';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const N = Number(process.env.BENCH_COMMANDS ?? 300);
const WARMUP = 30;
const TOKEN = 'bench-agent-token-0123456789';
const RUNNER_TOKEN = 'bench-runner-token-0123456789';
const ECHO = '/bin/echo';

function jsonClient(base) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const u = new URL(base);
  const call = (method, path, body) =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        { agent, host: u.hostname, port: u.port, method, path, headers: { authorization: `Bearer ${TOKEN}`, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (text += c));
          res.on('end', () => (res.statusCode >= 300 ? reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`)) : resolve(JSON.parse(text))));
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  return { call, close: () => agent.destroy() };
}

function startProcess(args, waitFor) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, COUNTERSIGN_RUNNER_TOKEN: RUNNER_TOKEN } });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (c) => {
      buf += c;
      const m = waitFor.exec(buf);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({ child, match: m });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`countersign ${args[0]} exited ${code}: ${buf}`)));
  });
}

async function sample(fn) {
  for (let i = 0; i < WARMUP; i++) await fn(i);
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out[i] = Number(process.hrtime.bigint() - t);
  }
  return out.sort();
}

function runDirect(i) {
  return new Promise((resolve, reject) => {
    const child = spawn(ECHO, ['hello', String(i)], { env: { PATH: '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 && out ? resolve(out) : reject(new Error(`echo exited ${code}`))));
    child.stdin.end();
  });
}

const loadAtStart = loadavg()[0];
const dir = mkdtempSync(join(tmpdir(), 'countersign-command-bench-'));
const procs = [];
const clients = [];
try {
  writeFileSync(join(dir, 'policy.yaml'), 'default: { outcome: deny }\nrules:\n  - id: echo\n    match: { kind: command }\n    outcome: allow\n');
  const target = (runner) => `{ kind: command, programs: { echo: { path: ${ECHO}, preset: generic } }, runner: ${runner} }`;
  writeFileSync(
    join(dir, 'gateway.yaml'),
    `listen: 127.0.0.1:0
store: { sqlite: ./gateway.db }
policy: ./policy.yaml
agents: [{ id: bench-bot, token: ${TOKEN}, owner: owner@example.com }]
humans: [{ id: owner@example.com }]
targets:
  here: ${target('local')}
  there: { kind: command, programs: { echo: { preset: generic } }, runner: dc1 }
runners: { list: [{ id: dc1, token: ${RUNNER_TOKEN} }] }
log: { level: info }
`,
  );
  writeFileSync(join(dir, 'runner.yaml'), `targets:\n  there: ${target('local')}\nlog: { level: info }\n`);
  const gw = await startProcess(['serve', '--config', join(dir, 'gateway.yaml')], /"url":"([^"]+)"/);
  procs.push(gw.child);
  const url = gw.match[1];
  const runner = await startProcess(['runner', '--gateway', url, '--config', join(dir, 'runner.yaml')], /runner connected/);
  procs.push(runner.child);
  const client = jsonClient(url);
  clients.push(client);
  const through = (t) => async (i) => {
    const a = await client.call('POST', '/v1/actions?wait=30', { kind: 'command', target: t, input: { argv: ['echo', 'hello', String(i)] } });
    if (a.status !== 'succeeded') throw new Error(`${t}: ${a.status} ${JSON.stringify(a.result)}`);
  };

  const direct = await sample(runDirect);
  const local = await sample(through('here'));
  const remote = await sample(through('there'));
  const loadAtEnd = loadavg()[0];
  const cores = cpus().length;
  // Valid figures need an idle machine; when the load stayed above the core count the whole
  // run waited for CPU, so say so next to the figures rather than let them stand as valid.
  const loadNote =
    Math.min(loadAtStart, loadAtEnd) > cores
      ? `Load average ${loadAtStart.toFixed(2)} at start and ${loadAtEnd.toFixed(2)} at the end, on ${cores} cores: **the load stayed high through the run**, so every path waited for CPU and these figures overstate the latencies (the direct spawn included). Re-run \`npm run bench -- command\` on an idle machine for valid numbers; compare the rows with each other, not with other machines.`
      : `Load average ${loadAtStart.toFixed(2)} at start and ${loadAtEnd.toFixed(2)} at the end, on ${cores} cores.`;
  const row = (name, s) => `| ${name} | ${fmtUs(percentile(s, 50))} | ${fmtUs(percentile(s, 99))} | ${fmtUs(percentile(s, 50) - percentile(direct, 50))} | ${fmtUs(percentile(s, 99) - percentile(direct, 99))} |`;
  writeFragment(
    'command-bench',
    `## Command actions: added latency (bench/command-bench.mjs)

An allowed \`echo hello N\` (kind \`command\`, generic preset), ${N} times one after another
(after ${WARMUP} warm-up runs), end to end from the agent's \`POST /v1/actions?wait=30\` (one
round trip, the result in the answer) to a real \`countersign serve\` process, against
running \`/bin/echo\` directly with \`child_process.spawn\` from the benchmark. Through the
gateway every run also commits its submitted, decided, started and finished states with
their audit entries (SQLite, fsync), parses the argv with the preset, evaluates policy,
makes a private run directory and redacts the output. Through a runner, add the hop to a
\`countersign runner\` process on the same machine (HTTP long poll: the job is handed out on
the runner's open poll, the result comes back in a second request; with SQLite the
runner queue is in the gateway's memory). ${loadNote}

| Path | p50 (µs) | p99 (µs) | added p50 (µs) | added p99 (µs) |
|---|---|---|---|---|
| \`/bin/echo\` directly (spawn) | ${fmtUs(percentile(direct, 50))} | ${fmtUs(percentile(direct, 99))} | – | – |
${row('through the gateway (`runner: local`)', local)}
${row('through the gateway and a runner', remote)}
`,
  );
  process.stdout.write(`direct p50 ${fmtUs(percentile(direct, 50))} µs; local p50 ${fmtUs(percentile(local, 50))} µs; runner p50 ${fmtUs(percentile(remote, 50))} µs\n`);
} finally {
  for (const c of clients) c.close();
  for (const p of procs.reverse()) {
    await new Promise((resolve) => {
      if (p.exitCode !== null) return resolve();
      p.once('exit', resolve);
      p.kill('SIGTERM');
    });
  }
  rmSync(dir, { recursive: true, force: true });
}
