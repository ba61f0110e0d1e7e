// CPU time per allowed decision of `countersign serve`, per thread, over a fixed number of
// requests: the load-independent measure of a change to the allow path on a shared machine
// (wall-clock throughput there says more about the neighbours than about the change).
// Not a `-bench.mjs`: `npm run bench` does not run it and it writes no docs fragment.
//
//   node bench/http-cpu.mjs [build root, default: this checkout]
//   HTTP_CPU_REQUESTS=20000 HTTP_CPU_ROUNDS=3 HTTP_CPU_NODE_FLAGS="--max-semi-space-size=4"
//
// Prints one JSON line: the load average, RSS after start and at peak, and per round the
// gateway's CPU µs per request (all threads, then the HTTP thread, the writer thread and
// the rest), requests/s and p99. Compare two builds by running both in turn, alternating.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAllowPathFixture } from './allow-path-fixture.mjs';

const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const N = Number(process.env.HTTP_CPU_REQUESTS ?? 20_000);
const ROUNDS = Number(process.env.HTTP_CPU_ROUNDS ?? 3);
const flags = (process.env.HTTP_CPU_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const TICKS_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** utime + stime of every thread, in µs, by thread id. */
function threadCpu(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) * TICKS_US);
    } catch {
      // the thread ended
    }
  }
  return out;
}
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

const dir = mkdtempSync(join(tmpdir(), 'countersign-http-cpu-'));
const { configPath, request } = writeAllowPathFixture(dir);

const child = spawn(process.execPath, [...flags, join(root, 'dist/cli/main.js'), 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c) => {
      buf += c;
      const m = /"url":"([^"]+)"/.exec(buf);
      if (m) resolve(`${m[1]}/v1/actions`);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
  });
  const startRss = rssMb(child.pid);
  let peakRss = startRss;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, rssMb(child.pid))), 100);
  await autocannon({ url, amount: Math.min(N, 4000), connections: 64, ...request }); // warm-up
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) {
    const before = threadCpu(child.pid);
    const r = await autocannon({ url, amount: N, connections: 64, ...request });
    const after = threadCpu(child.pid);
    const per = [...after].map(([tid, us]) => [tid, (us - (before.get(tid) ?? 0)) / N]).sort((a, b) => b[1] - a[1]);
    const http = per.find(([tid]) => tid === String(child.pid))?.[1] ?? 0;
    // The busiest thread besides the HTTP thread is the store's writer.
    const writer = per.find(([tid]) => tid !== String(child.pid))?.[1] ?? 0;
    const total = per.reduce((s, [, us]) => s + us, 0);
    const round = (x) => Math.round(x * 10) / 10;
    rounds.push({ cpuUsPerRequest: round(total), http: round(http), writer: round(writer), rest: round(total - http - writer), rps: Math.round(r.requests.average), p99: r.latency.p99, non2xx: r.non2xx });
  }
  clearInterval(timer);
  console.log(JSON.stringify({ flags, load: Number(loadavg()[0].toFixed(1)), startRssMb: Math.round(startRss), peakRssMb: Math.round(peakRss), rounds }));
} finally {
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
