// The store under the gateway: SQLite (one node) against PostgreSQL with one and with two
// replicas, same load generator, same machine, same run.
// 1. The allow path (POST /v1/actions, decide mode): autocannon against each setup; with two
//    replicas, half the connections go to each.
// 2. Approval-to-release: an agent long-polls (?wait) on replica A while a human approves
//    on A (same replica) or on B (across replicas: PostgreSQL's LISTEN/NOTIFY wakes A).
// 3. Audit appends/s straight on the store (group commit, 64 in flight): SQLite vs PostgreSQL.
// PostgreSQL runs here with fsync and synchronous_commit ON (durable, like SQLite's
// synchronous=FULL), on the same 2 cores as the gateways and the load generator.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createPostgresStore } from '../dist/adapters/store/postgres/pg-store.js';
import { createSqliteStore } from '../dist/adapters/store/sqlite/sqlite-store.js';
import { startPgCluster } from '../test/support/pg-cluster.mjs';
import { percentile, writeFragment } from './bench-util.mjs';

const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 60);
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const agentToken = 'bench-agent-token-0123456789';
const humanToken = 'bench-human-token-0123456789';

function startGateway(config, env) {
  const child = spawn(process.execPath, [cli, 'serve', '--config', config], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c) => {
      buf += c;
      const m = /"msg":"countersign listening"[^\n]*"url":"([^"]+)"|"url":"([^"]+)"[^\n]*"msg":"countersign listening"/.exec(buf);
      if (m) resolve({ child, url: m[1] ?? m[2] });
    });
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${buf.slice(-2000)}`)));
  });
}
const stop = (g) => new Promise((r) => (g.child.exitCode !== null ? r() : (g.child.once('exit', r), g.child.kill())));

const submitBody = JSON.stringify({ kind: 'http', target: 'api', input: { method: 'GET', path: '/v1/items/42' }, mode: 'decide' });
const request = { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${agentToken}` }, body: submitBody };

async function allowPath(urls) {
  const per = Math.max(1, Math.floor(CONNECTIONS / urls.length));
  await Promise.all(urls.map((u) => autocannon({ url: `${u}/v1/actions`, duration: 2, connections: per, ...request })));
  const rs = await Promise.all(urls.map((u) => autocannon({ url: `${u}/v1/actions`, duration: DURATION, connections: per, ...request })));
  return { rps: rs.reduce((a, r) => a + r.requests.average, 0), p50: Math.max(...rs.map((r) => r.latency.p50)), p99: Math.max(...rs.map((r) => r.latency.p99)), errors: rs.reduce((a, r) => a + r.errors + r.non2xx, 0) };
}

async function call(url, path, token, init = {}) {
  const res = await fetch(`${url}${path}`, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** Submits a reviewed action on `a`, long-polls it there, approves it on `b`: ms from the approve request to the release. */
async function releaseLatency(a, b, n) {
  const out = [];
  for (let i = 0; i < n + 5; i++) {
    const act = await call(a, '/v1/actions', agentToken, { method: 'POST', body: JSON.stringify({ kind: 'http', target: 'api', input: { method: 'POST', path: `/v1/items/${i}` }, mode: 'decide' }) });
    let released = 0;
    const waiting = call(a, `/v1/actions/${act.id}?wait=30`, agentToken).then((r) => {
      released = performance.now();
      return r;
    });
    await new Promise((r) => setTimeout(r, 20)); // the long poll is parked
    const t0 = performance.now();
    await call(b, `/v1/actions/${act.id}/approve`, humanToken, { method: 'POST', body: JSON.stringify({ fingerprint: act.fingerprint }) });
    const r = await waiting;
    if (r.status !== 'approved') throw new Error(`not released: ${r.status}`);
    if (i >= 5) out.push(released - t0);
  }
  return Float64Array.from(out).sort();
}

async function appends(store, n = 20_000, inFlight = 64) {
  const draft = (i) => [{ type: 'policy.loaded', ts: new Date().toISOString(), actor: { type: 'system', id: 'bench' }, data: { version: `v${i}` } }];
  for (let i = 0; i < 1000; i++) await store.appendAudit(draft(i));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    for (let i = next++; i < n; i = next++) await store.appendAudit(draft(i));
  }));
  return n / ((performance.now() - t0) / 1000);
}

const startLoad = os.loadavg()[0];
const dir = mkdtempSync(join(tmpdir(), 'countersign-pgstore-bench-'));
const cluster = await startPgCluster({ settings: { fsync: 'on', synchronous_commit: 'on', max_connections: '100' } });
const gateways = [];
try {
  writeFileSync(join(dir, 'policy.yaml'), 'default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }\nrules:\n  - id: reads\n    match: { kind: http, target: api }\n    when: http.method == "GET"\n    outcome: allow\n');
  const config = (store) =>
    `listen: 127.0.0.1:0\nstore: ${store}\npolicy: ./policy.yaml\nagents:\n  - { id: bench-bot, token: "${agentToken}", owner: owner@example.com }\nhumans:\n  - { id: owner@example.com, groups: [oncall] }\n  - { id: approver@example.com, groups: [oncall], token: "${humanToken}" }\ntargets:\n  api: { kind: http, baseUrl: "http://127.0.0.1:9" }\nlog: { level: info }\naudit: { checkpoints: { maxDelay: 10s } }\n`;
  writeFileSync(join(dir, 'sqlite.yaml'), config('{ sqlite: ./bench.db }'));
  writeFileSync(join(dir, 'pg.yaml'), config('{ postgres: { url: "${DATABASE_URL}", schema: bench, pool: { max: 8 } } }'));
  const env = { DATABASE_URL: cluster.url('postgres') };

  const sqlite = await startGateway(join(dir, 'sqlite.yaml'), {});
  gateways.push(sqlite);
  const sqliteAllow = await allowPath([sqlite.url]);
  const sqliteRelease = await releaseLatency(sqlite.url, sqlite.url, SAMPLES);
  await stop(sqlite);

  const pg1 = await startGateway(join(dir, 'pg.yaml'), env);
  gateways.push(pg1);
  const pgAllow1 = await allowPath([pg1.url]);
  const pg2 = await startGateway(join(dir, 'pg.yaml'), env);
  gateways.push(pg2);
  const pgAllow2 = await allowPath([pg1.url, pg2.url]);
  const sameReplica = await releaseLatency(pg1.url, pg1.url, SAMPLES);
  const acrossReplicas = await releaseLatency(pg1.url, pg2.url, SAMPLES);
  await stop(pg1);
  await stop(pg2);

  const sqliteStore = createSqliteStore({ path: join(dir, 'appends.db') });
  const sqliteAppends = await appends(sqliteStore);
  await sqliteStore.close();
  const pgStore = await createPostgresStore({ url: cluster.url('postgres'), schema: 'appends', poolMax: 4, listen: false });
  const pgAppends = await appends(pgStore);
  await pgStore.close();

  const row = (name, r) => `| ${name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50} | ${r.p99} | ${r.errors} |`;
  const lat = (name, s) => `| ${name} | ${percentile(s, 50).toFixed(1)} | ${percentile(s, 99).toFixed(1)} | ${s.length} |`;
  const acrossP50 = percentile(acrossReplicas, 50);
  const md = `## Store: SQLite vs PostgreSQL, one and two replicas (bench/pgstore-bench.mjs)

Same gateway, same load generator (autocannon, ${CONNECTIONS} connections, ${DURATION} s after a 2 s warm-up),
same machine. PostgreSQL ${cluster.version} runs locally with fsync and synchronous_commit on, so every
acknowledged decision is durable, as with SQLite's synchronous=FULL. Everything (PostgreSQL, the
gateways, autocannon) shares the machine's ${os.cpus().length} cores: a second replica adds no CPU here,
so the two-replica row shows the cost of coordination (one sequencer row shared by both), not the
scaling a second machine would give.

**Allow path** (POST /v1/actions, decide mode, durable and audited):

| Store | Requests/s | p50 ms | p99 ms | errors |
| --- | ---: | ---: | ---: | ---: |
${row('SQLite, one node', sqliteAllow)}
${row('PostgreSQL, one replica', pgAllow1)}
${row('PostgreSQL, two replicas (half the connections each)', pgAllow2)}

**Approval to release** (an agent long-polls on replica A; a human approves; ms from the approve
request to the agent's response; ${SAMPLES} samples each, one at a time):

| Where the approval lands | p50 ms | p99 ms | samples |
| --- | ---: | ---: | ---: |
${lat('SQLite, one node', sqliteRelease)}
${lat('PostgreSQL, the same replica', sameReplica)}
${lat('PostgreSQL, another replica (LISTEN/NOTIFY)', acrossReplicas)}

Across replicas, p50 ${acrossP50.toFixed(1)} ms against the 25 ms target: ${acrossP50 <= 25 ? '**met**' : '**missed**'}.

Where the time goes on PostgreSQL: a batch of new actions is four round trips whatever its
size: BEGIN with the sequencer's row lock (and the leaves other replicas appended since this
replica's cached tree edge); one multi-row INSERT of the actions and their audience index; one
of their first-time pairs; the audit entries, tree nodes, head update, NOTIFY and COMMIT
together. Each round trip and the commit's fsync cost far more on a loaded 2-core machine than
SQLite's in-process call (on this machine a single statement took 0.3 to 12 ms at this load).
Across replicas, the release is the approving replica's batch (read, update, COMMIT with
NOTIFY), the notification, and one read of the action on the waiting replica; a lost
notification is covered by a 500 ms poll.

Load average (1 min) when the run started: ${startLoad.toFixed(1)}, when it ended: ${os.loadavg()[0].toFixed(1)}
(other jobs share the machine; figures taken under a high load are not comparable with
figures from a quiet one).

**Audit appends** (store.appendAudit, one entry each, 64 in flight, group commit; the tree is
written in the same transaction):

| Store | Appends/s |
| --- | ---: |
| SQLite (writer thread) | ${Math.round(sqliteAppends).toLocaleString('en-US')} |
| PostgreSQL (one replica, sequencer row lock per batch) | ${Math.round(pgAppends).toLocaleString('en-US')} |
`;
  writeFragment('pgstore-bench', md);
  process.stdout.write(`${md}\n`);
} finally {
  for (const g of gateways) await stop(g).catch(() => undefined);
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
