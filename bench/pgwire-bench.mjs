// The PostgreSQL wire gateway (docs/postgres-gateway.md) on a real PostgreSQL (a private
// cluster, test/support/pg-cluster.mjs, on 127.0.0.1), side by side in one run:
// (1) pgbench -S (select-only, allowed by policy), the same client count and threads,
//     directly to PostgreSQL and through a real `countersign serve` process: TPS and the
//     latency each transaction took (pgbench's per-transaction log, p50/p99); through the
//     gateway every statement is parsed, decided by policy and recorded as an action with
//     its audit entries. A second gateway keeps its store on tmpfs (no disk flush per
//     commit), to show what the durable commits cost apart from the protocol work.
// (2) 1,000 idle clients connected and authenticated (SCRAM-SHA-256): the gateway's RSS.
// Every server is stopped at the end, also when the benchmark fails.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPgCluster } from '../test/support/pg-cluster.mjs';
import { percentile, verdict, writeFragment } from './bench-util.mjs';
import { parentPid, reapedChildrenCpu, serverCpu, threadCpu, threadCpuSpent } from './proc-cpu.mjs';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const CLIENTS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const THREADS = 2;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const IDLE = Number(process.env.BENCH_IDLE_CLIENTS ?? 1000);
const TOKEN = 'bench-agent-token-0123456789';

function startGateway(configPath) {
  // BENCH_CPU_PROF=<dir>: the gateways write V8 CPU profiles there when they stop.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, cli, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (c) => {
      buf += c;
      const wire = buf.split('\n').find((l) => l.includes('postgres wire gateway listening'));
      const m = wire && /"address":"([^"]+)"/.exec(wire);
      if (m && /"msg":"countersign listening"/.test(buf)) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        const i = m[1].lastIndexOf(':');
        resolve({ child, host: m[1].slice(0, i), port: Number(m[1].slice(i + 1)) });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`countersign serve exited ${code}: ${buf}`)));
  });
}

/**
 * Runs pgbench -S once; TPS from its summary, latencies (µs) from its per-transaction log;
 * CPU µs per statement (one statement per transaction) of PostgreSQL, of pgbench and, when
 * `gatewayPid` is given, of the gateway's threads: what the run cost, whatever the load.
 */
async function pgbench(binDir, { host, port, user, password, db }, label, mode, gatewayPid) {
  const logDir = mkdtempSync(join(tmpdir(), `pgwire-bench-${label}-`));
  const cpu0 = { pg: serverCpu(postmasterPid), pgbench: reapedChildrenCpu(), gateway: gatewayPid ? threadCpu(gatewayPid) : undefined };
  const r = spawnSync(
    join(binDir, 'pgbench'),
    ['-S', '-n', '-M', mode, '-c', String(CLIENTS), '-j', String(THREADS), '-T', String(SECONDS), '-l', '--log-prefix', join(logDir, 'tx'), '-h', host, '-p', String(port), '-U', user, db],
    { env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'disable' }, encoding: 'utf8', cwd: logDir },
  );
  if (r.status !== 0) throw new Error(`pgbench (${label}) failed: ${r.stderr}${r.stdout}`);
  const gatewaySpent = gatewayPid ? threadCpuSpent(cpu0.gateway, threadCpu(gatewayPid)) : undefined;
  // pgbench's backends have ended: their time is the postmaster's once it reaped them.
  await new Promise((res) => setTimeout(res, 300));
  const cpu = { pg: serverCpu(postmasterPid) - cpu0.pg, pgbench: reapedChildrenCpu() - cpu0.pgbench, gateway: gatewaySpent };
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(r.stdout)?.[1]);
  const failed = Number(/number of failed transactions: (\d+)/.exec(r.stdout)?.[1] ?? 0);
  const lat = [];
  for (const f of readdirSync(logDir)) {
    for (const line of readFileSync(join(logDir, f), 'utf8').split('\n')) {
      const parts = line.split(' ');
      if (parts.length >= 3) lat.push(Number(parts[2]));
    }
  }
  rmSync(logDir, { recursive: true, force: true });
  const s = Float64Array.from(lat).sort();
  const per = (us) => (Number.isFinite(us) ? us / s.length : NaN);
  return {
    tps,
    failed,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    n: s.length,
    cpu: { pg: per(cpu.pg), pgbench: per(cpu.pgbench), ...(cpu.gateway ? { main: per(cpu.gateway.main), writer: per(cpu.gateway.busiestOther), rest: per(cpu.gateway.rest) } : {}) },
  };
}

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

const loadAtStart = loadavg()[0];
const cluster = await startPgCluster();
let postmasterPid;
const gateways = [];
const dirs = [];
const idle = [];
try {
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  postmasterPid = parentPid((await admin.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  await admin.end();
  const url = cluster.url('bench');
  const init = spawnSync(join(cluster.binDir, 'pgbench'), ['-i', '-s', '1', '-q', '-h', cluster.host, '-p', String(cluster.port), '-U', cluster.user, 'bench'], {
    env: { ...process.env, PGPASSWORD: cluster.password },
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);

  const dir = mkdtempSync(join(tmpdir(), 'countersign-pgwire-bench-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'policy.yaml'),
    `default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: reads
    match: { kind: sql, target: db }
    when: sql.readOnly
    outcome: allow
`,
  );
  const config = (store) => `listen: 127.0.0.1:0
store: { sqlite: "${store}" }
policy: ${join(dir, 'policy.yaml')}
agents:
  - { id: bench-bot, token: "${TOKEN}", owner: owner@example.com }
humans:
  - { id: owner@example.com, groups: [oncall] }
targets:
  db: { kind: postgres, url: "${url}" }
postgresListen:
  address: 127.0.0.1:0
  maxConnections: ${IDLE + 100}
  databases:
    bench: { target: db }
log: { level: warn }
`;
  writeFileSync(join(dir, 'durable.yaml'), config(join(dir, 'bench.db')));
  const memDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/countersign-pgwire-bench-') : undefined;
  if (memDir) {
    dirs.push(memDir);
    writeFileSync(join(dir, 'tmpfs.yaml'), config(join(memDir, 'bench.db')));
  }
  // warn level hides the listening lines the harness waits for: info for start-up only.
  for (const f of ['durable.yaml', 'tmpfs.yaml']) if (existsSync(join(dir, f))) writeFileSync(join(dir, f), readFileSync(join(dir, f), 'utf8').replace('level: warn', 'level: info'));

  // --- (1) pgbench -S, simple then prepared protocol: direct, then through each gateway ----
  const MODES = ['simple', 'prepared'];
  const runs = {};
  const durable = await startGateway(join(dir, 'durable.yaml'));
  gateways.push(durable);
  const tmpfs = memDir ? await startGateway(join(dir, 'tmpfs.yaml')) : undefined;
  if (tmpfs) gateways.push(tmpfs);
  // Warm-up, not measured: JIT compilation, the upstream connections and the parse caches
  // would otherwise count in the first run's CPU per statement.
  for (const gw of [durable, tmpfs].filter(Boolean)) {
    for (const mode of MODES) {
      spawnSync(join(cluster.binDir, 'pgbench'), ['-S', '-n', '-M', mode, '-c', String(CLIENTS), '-j', String(THREADS), '-t', '50', '-h', gw.host, '-p', String(gw.port), '-U', 'bench-bot', 'bench'], {
        env: { ...process.env, PGPASSWORD: TOKEN, PGSSLMODE: 'disable' },
      });
    }
  }
  for (const mode of MODES) {
    const direct = await pgbench(cluster.binDir, { host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, db: 'bench' }, 'direct', mode);
    const viaDurable = await pgbench(cluster.binDir, { host: durable.host, port: durable.port, user: 'bench-bot', password: TOKEN, db: 'bench' }, 'gateway', mode, durable.child.pid);
    const viaTmpfs = tmpfs ? await pgbench(cluster.binDir, { host: tmpfs.host, port: tmpfs.port, user: 'bench-bot', password: TOKEN, db: 'bench' }, 'gateway-tmpfs', mode, tmpfs.child.pid) : undefined;
    runs[mode] = { direct, viaDurable, viaTmpfs };
  }
  const loadAfterRuns = loadavg()[0];
  tmpfs?.child.kill();

  // --- (2) 1,000 idle clients on a fresh gateway (the load above left its heap grown) ------
  durable.child.kill();
  const fresh = await startGateway(join(dir, 'durable.yaml'));
  gateways.push(fresh);
  // One session first: the first log-in opens the upstream connection for the start-up parameters.
  const first = new pg.Client({ host: fresh.host, port: fresh.port, user: 'bench-bot', password: TOKEN, database: 'bench' });
  await first.connect();
  idle.push(first);
  await new Promise((r) => setTimeout(r, 1000));
  const rssBefore = rssMiB(fresh.child.pid);
  for (let i = 1; i < IDLE; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, IDLE - i) }, async () => {
        const c = new pg.Client({ host: fresh.host, port: fresh.port, user: 'bench-bot', password: TOKEN, database: 'bench' });
        c.on('error', () => undefined);
        await c.connect();
        idle.push(c);
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 2000));
  const rssIdle = rssMiB(fresh.child.pid);
  // Still serving with them all connected.
  const check = await idle[0].query('SELECT abalance FROM pgbench_accounts WHERE aid = 1');
  if (check.rows.length !== 1) throw new Error('the gateway stopped serving with the idle clients connected');

  const row = (name, r, direct) => `| ${name} | ${r.tps.toFixed(0)} | ${(r.tps / direct.tps).toFixed(2)}x | ${(r.p50 / 1000).toFixed(3)} | ${(r.p99 / 1000).toFixed(3)} | ${r.failed} |`;
  const table = (mode) => {
    const { direct, viaDurable, viaTmpfs } = runs[mode];
    return [
      row(`\`-M ${mode}\`, direct to PostgreSQL`, direct, direct),
      row(`\`-M ${mode}\`, through the gateway (store on disk)`, viaDurable, direct),
      ...(viaTmpfs ? [row(`\`-M ${mode}\`, through the gateway (store on tmpfs)`, viaTmpfs, direct)] : []),
    ].join('\n');
  };
  const us = (x) => (Number.isFinite(x) ? x.toFixed(0) : '-');
  const cpuRow = (name, r) => {
    const gw = r.cpu.main !== undefined ? r.cpu.main + r.cpu.writer + r.cpu.rest : 0;
    return `| ${name} | ${us(r.cpu.main)} | ${us(r.cpu.writer)} | ${us(r.cpu.rest)} | ${us(r.cpu.pg)} | ${us(r.cpu.pgbench)} | ${us(gw + r.cpu.pg + r.cpu.pgbench)} |`;
  };
  const cpuTable = (mode) => {
    const { direct, viaDurable, viaTmpfs } = runs[mode];
    return [
      cpuRow(`\`-M ${mode}\`, direct`, direct),
      cpuRow(`\`-M ${mode}\`, gateway (disk)`, viaDurable),
      ...(viaTmpfs ? [cpuRow(`\`-M ${mode}\`, gateway (tmpfs)`, viaTmpfs)] : []),
    ].join('\n');
  };
  const goal = (mode) => {
    const { direct, viaDurable, viaTmpfs } = runs[mode];
    const ratio = viaDurable.tps / direct.tps;
    return `- \`-M ${mode}\`: goal at least 85% of direct TPS: ${(ratio * 100).toFixed(0)}% (store on disk), ${verdict(ratio >= 0.85)}${viaTmpfs ? `; ${((viaTmpfs.tps / direct.tps) * 100).toFixed(0)}% with the store on tmpfs` : ''}. Added p50 latency: ${((viaDurable.p50 - direct.p50) / 1000).toFixed(3)} ms (disk)${viaTmpfs ? `, ${((viaTmpfs.p50 - direct.p50) / 1000).toFixed(3)} ms (tmpfs)` : ''}.`;
  };
  const md = `## PostgreSQL wire gateway

bench/pgwire-bench.mjs: \`pgbench -S -c ${CLIENTS} -j ${THREADS} -T ${SECONDS}\` (scale 1, select-only, allowed by
policy), with the simple (\`-M simple\`) and the extended (\`-M prepared\`) query protocol, directly to
PostgreSQL and through the wire gateway (a real \`countersign serve\` process), one after the other in the same
run, on the same private cluster, with the same client count. Through the gateway each statement is parsed
(libpg_query; outcomes and facts cached by statement text), decided by policy, recorded as an action with its
audit entries in SQLite (one commit for the decision and the running state together, before the statement is
forwarded; one for the result, group-committed with others while the client already has its answer) and
forwarded on the session's own upstream connection (the client's Bind, Execute and Sync in one write once the
Execute is decided). Latencies from pgbench's per-transaction log. Load average
(\`uptime\`, 1 min): ${loadAtStart.toFixed(2)} at start, ${loadAfterRuns.toFixed(2)} after the pgbench runs, on ${cpus().length} cores.

| path | TPS | of direct | p50 ms | p99 ms | failed |
|---|---:|---:|---:|---:|---:|
${MODES.map(table).join('\n')}

CPU per statement, in µs (from \`/proc\`, over each pgbench run, divided by its statements): the gateway's main
thread, its busiest other thread (the store's writer), its other threads (V8's GC and compiler helpers),
PostgreSQL (server and backends), pgbench. They depend far less on the load than TPS, but not at all: on a loaded
machine the gateway serves few statements a second, and its fixed cost (about 4 ms of CPU a second when idle)
and the contention for caches inflate them; compare runs taken at similar load.

| path | gateway main | store writer | other threads | PostgreSQL | pgbench | total |
|---|---:|---:|---:|---:|---:|---:|
${MODES.map(cpuTable).join('\n')}

${MODES.map(goal).join('\n')}
- ${IDLE} idle clients connected and authenticated (SCRAM-SHA-256) to a freshly started gateway: RSS ${rssBefore.toFixed(0)} MiB with one
  client, ${rssIdle.toFixed(0)} MiB with ${IDLE} (${(((rssIdle - rssBefore) * 1024) / (IDLE - 1)).toFixed(1)} KiB each); goal at most 200 MB: ${verdict(rssIdle * 1.048576 <= 200)}. An idle client holds no
  upstream connection.
- What bounds it: see "Throughput, and what bounds it" in docs/postgres-gateway.md.
`;
  writeFragment('pgwire-bench', md);
  process.stdout.write(md);
} finally {
  await Promise.allSettled(idle.map((c) => c.end()));
  for (const gw of gateways) if (gw.child.exitCode === null) gw.child.kill();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await cluster.stop();
}
