#!/usr/bin/env node
// The crash campaign (docs/reliability.md): run after run, start the real gateway on a
// fresh or reused store, drive a random mix of work through its API, kill it with
// SIGKILL at a random moment (a timer, or one of the named crash points of
// src/testing/crash-point.ts, or while the target holds an execution), restart it and
// check the promises against the counting target, the API and the audit log.
//
//   npm run campaign:crash -- --runs 1000 [--seed N] [--store sqlite|postgres] [--replicas R] [--out file.json]
//
// On PostgreSQL, R gateway replicas (default 2) share one database: the first is the
// one the kill is planned for, the others are killed a moment after it; and cutting
// every database connection (pg_terminate_backend) is one more crash moment.
//
// Exit code 0 when every run kept every promise, 1 otherwise. The summary line is
// `runs N, unapproved 0, double 0, lost 0, interrupted K`; details go to --out.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../lib/args.mjs';
import { startCountingTarget } from '../lib/counting-target.mjs';
import { runCli, startGateway } from '../lib/gateway.mjs';
import { rng, weighted } from '../lib/rng.mjs';
import { storeNamed } from '../lib/stores.mjs';
import { canaryReport, newCanary } from '../lib/canaries.mjs';
import { checkRun } from './crash-checks.mjs';
import { driveWorkload } from './crash-workload.mjs';

const args = parseArgs(process.argv.slice(2), {
  runs: 30,
  seed: 0,
  store: 'sqlite',
  /** Gateway replicas on the one store (PostgreSQL only; 0: the store's default). */
  replicas: 0,
  freshEvery: 10,
  workers: 4,
  maxWorkMs: 1500,
  out: '',
  dir: '',
  keep: false,
  quiet: false,
  /** Force one kill for every run: `timer:MS`, `target:N` or `<crash point>:N` (default: random). */
  kill: '',
});
const seed = args.seed || (randomBytes(4).readUInt32BE(0) >>> 1);
const store = storeNamed(args.store);
const replicas = args.replicas || store.defaultReplicas;
if (replicas < 1 || replicas > store.maxReplicas) throw new Error(`--replicas ${replicas}: ${store.name} takes 1 to ${store.maxReplicas}`);
const dir = args.dir || mkdtempSync(join(tmpdir(), 'countersign-crash-'));
mkdirSync(dir, { recursive: true });
const say = (s) => !args.quiet && process.stdout.write(`${s}\n`);

// Every secret of this campaign is a unique canary: after the campaign, nothing the
// gateway produced may contain one (lib/canaries.mjs).
const labels = new Map();
const canary = (what) => {
  const value = newCanary();
  labels.set(value, what);
  return value;
};
const secrets = {
  agent: canary('agent-token'),
  alice: canary('alice-token'),
  bob: canary('bob-token'),
  auditor: canary('auditor-token'),
  target: canary('target-credential'),
  webhook: `whsec_${Buffer.from(canary('webhook-secret')).toString('base64')}`,
};

const POLICY = `
default: { outcome: deny, reason: not in the campaign }
rules:
  - id: reads
    match: { kind: http, target: api }
    when: http.method == "GET"
    outcome: allow
  - id: deletes
    match: { kind: http, target: api }
    when: http.method == "DELETE"
    outcome: deny
    reason: never
  - id: one-approver
    match: { kind: http, target: api }
    when: http.method == "POST" && http.path.startsWith("/q1/")
    outcome: review
    review: { approvers: [group:ops], quorum: 1, timeout: 1h }
  - id: two-approvers
    match: { kind: http, target: api }
    when: http.method == "POST" && http.path.startsWith("/q2/")
    outcome: review
    review: { approvers: [group:ops], quorum: 2, timeout: 1h }
  - id: expiring
    match: { kind: http, target: api }
    when: http.method == "PUT"
    outcome: review
    review: { approvers: [group:ops], quorum: 1, timeout: 1s }
`;

async function main() {
  await store.setup(canary);
  const target = await startCountingTarget();
  const hooks = await startCountingTarget();
  const configPath = join(dir, 'countersign.yaml');
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  writeFileSync(
    configPath,
    `listen: 127.0.0.1:0
${store.configLine(dir)}
policy: ./policy.yaml
agents:
  - { id: crash-bot, token: "\${T_AGENT}", owner: owner@example.com }
humans:
  - { id: alice@example.com, groups: [ops], token: "\${T_ALICE}" }
  - { id: bob@example.com, groups: [ops], token: "\${T_BOB}" }
  - { id: audra@example.com, groups: [auditor], token: "\${T_AUDITOR}" }
  - { id: owner@example.com, groups: [owners] }
targets:
  api: { kind: http, baseUrl: "${target.url}/api", headers: { Authorization: "Bearer \${T_TARGET}" }, timeout: 10s }
scheduler: { intervalMs: 100 }
audit:
  signingKeyFile: ./audit-signing.key
  checkpoints: { maxEntries: 25, maxDelay: 1s }
channels:
  webhooks:
    - { name: hook, url: "${hooks.url}/hook", secret: "\${T_WEBHOOK}" }
  delivery: { initialBackoff: 100ms, maxBackoff: 500ms, timeout: 2s, intervalMs: 100, maxAttempts: 50 }
log: { level: info }
`,
  );
  const env = { T_AGENT: secrets.agent, T_ALICE: secrets.alice, T_BOB: secrets.bob, T_AUDITOR: secrets.auditor, T_TARGET: secrets.target, T_WEBHOOK: secrets.webhook, ...store.env() };
  const logFile = join(dir, 'gateway.log');

  const totals = { runs: 0, unapproved: 0, double: 0, lost: 0, interrupted: 0, stuck: 0, auditFailures: 0, otherFailures: 0 };
  const runs = [];
  // What the API acknowledged, across runs on the same store: none of it may be lost.
  let ledger = newLedger();
  let lastAuditSize = 0;
  const started = Date.now();

  for (let run = 0; run < args.runs; run++) {
    const runSeed = (seed + Math.imul(run, 0x9e3779b1)) >>> 0;
    const r = rng(runSeed);
    if (run % args.freshEvery === 0) {
      await store.fresh(dir);
      target.calls.clear(); // calls for the previous store's actions are not this store's business
      ledger = newLedger();
      lastAuditSize = 0;
    }
    const kill = args.kill ? forcedKill(args.kill) : weighted(r, [
      [3, { type: 'timer', atMs: r.int(0, args.maxWorkMs) }],
      [2, { type: 'point', point: 'store.before-commit', hit: r.int(1, 40) }],
      [1, { type: 'point', point: 'store.after-commit', hit: r.int(1, 40) }],
      [2, { type: 'point', point: 'execution.before-executor', hit: r.int(1, 10) }],
      [1, { type: 'point', point: 'execution.after-executor', hit: r.int(1, 10) }],
      [1, { type: 'point', point: 'checkpoint.signed', hit: r.int(1, 2) }],
      [1, { type: 'point', point: 'delivery.sending', hit: r.int(1, 15) }],
      [2, { type: 'target', call: r.int(1, 8) }],
      // Every database connection cut, then the gateway killed a moment later.
      ...(store.killConnections ? [[2, { type: 'dbconn', atMs: r.int(0, args.maxWorkMs), thenMs: r.int(50, 800) }]] : []),
    ]);
    const record = { run, seed: runSeed, kill, fresh: run % args.freshEvery === 0, killedBy: '', acked: 0, violations: [] };
    runs.push(record);

    const t0 = Date.now();
    const phase = {};
    let gw;
    const others = [];
    try {
      gw = await startPatiently({ configPath, env, logFile, crashPlan: kill.type === 'point' ? { point: kill.point, hit: kill.hit } : undefined }, record);
      for (let i = 1; i < replicas && gw.alive; i++) others.push(await startPatiently({ configPath, env, logFile }, record));
    } catch (e) {
      // A crash point reached while starting (migrations, the policy's audit entry,
      // recovery of the previous run's work) is a crash like any other: check after it.
      if (kill.type !== 'point' || e.exit?.signal !== 'SIGKILL') {
        record.violations.push({ type: 'start', detail: String(e.message).slice(0, 2000) });
        totals.otherFailures++;
        break;
      }
      record.killedBy = `point:${kill.point} (starting)`;
    }
    phase.start = Date.now() - t0;
    if (gw) await driveUntilKilled({ gw, others, kill, record, target, r, ledger });
    // The other replicas die a moment after the first: some of their work is in flight.
    if (others.length) await new Promise((res) => setTimeout(res, r.int(0, 300)));
    await Promise.all(others.map((o) => o.kill()));

    phase.work = Date.now() - t0 - phase.start;
    // Restart without a crash plan, let recovery run, then check everything.
    let checker;
    try {
      checker = await startPatiently({ configPath, env, logFile }, record);
    } catch (e) {
      record.violations.push({ type: 'restart', detail: String(e.message).slice(0, 2000) });
      totals.otherFailures++;
      break;
    }
    const t1 = Date.now();
    const result = await checkRun({ url: checker.url, secrets, ledger, target, hooks });
    phase.check = Date.now() - t1;
    await checker.stop();
    phase.stop = Date.now() - t1 - phase.check;
    const audit = await verifyAudit(configPath, env, lastAuditSize);
    phase.verify = Date.now() - t1 - phase.check - phase.stop;
    record.phaseMs = phase;
    lastAuditSize = Math.max(lastAuditSize, audit.size ?? 0);

    record.violations.push(...result.violations, ...audit.violations);
    record.interrupted = result.interruptedNew;
    record.auditSize = audit.size;
    totals.runs++;
    totals.interrupted += result.interruptedNew;
    for (const v of record.violations) {
      if (v.type in totals) totals[v.type]++;
      else if (v.type.startsWith('audit')) totals.auditFailures++;
      else totals.otherFailures++;
    }
    if (record.violations.length) say(`run ${run} (seed ${runSeed}, ${describeKill(kill)}): ${record.violations.length} violation(s): ${JSON.stringify(record.violations.slice(0, 3))}`);
    else if ((run + 1) % 10 === 0) say(`run ${run + 1}/${args.runs}: ok (${Math.round((Date.now() - started) / 1000)} s)`);
  }

  await target.close();
  await hooks.close();
  const leaks = canaryReport(dir, [...labels].map(([value, label]) => ({ value, label })), [logFile, ...(await store.files(dir))]);
  await store.teardown();
  const summary = `runs ${totals.runs}, unapproved ${totals.unapproved}, double ${totals.double}, lost ${totals.lost}, interrupted ${totals.interrupted}`;
  const failed = totals.unapproved + totals.double + totals.lost + totals.stuck + totals.auditFailures + totals.otherFailures + leaks.found.length > 0 || totals.runs < args.runs;
  const details = {
    campaign: 'crash',
    store: args.store,
    replicas,
    seed,
    args,
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    totals,
    canaries: leaks,
    targetCalls: target.log.length,
    webhookDeliveries: hooks.log.length,
    killedBy: tally(runs.map((x) => x.killedBy.replace(/:.*/, (m) => (x.killedBy.startsWith('point') ? m : '')))),
    failedRuns: runs.filter((x) => x.violations.length),
    runs,
  };
  const out = args.out || join(tmpdir(), `countersign-crash-${seed}.json`); // outlives the campaign's directory
  writeFileSync(out, `${JSON.stringify(details, null, 2)}\n`);
  process.stdout.write(`${summary}${totals.stuck ? `, stuck ${totals.stuck}` : ''}${totals.auditFailures ? `, audit ${totals.auditFailures}` : ''}${totals.otherFailures ? `, other ${totals.otherFailures}` : ''}${leaks.found.length ? `, canary leaks ${leaks.found.length}` : ''} (seed ${seed}; details ${out})\n`);
  if (!args.keep && !failed && !args.dir) rmSync(dir, { recursive: true, force: true });
  else say(`campaign directory kept: ${dir}`);
  process.exitCode = failed ? 1 : 0;
}

/** Drives the workload against `gw` until it is killed: by the timer, a crash point or the target. */
async function driveUntilKilled({ gw, others, kill, record, target, r, ledger }) {
  const targetCallsBefore = target.log.length;
  if (kill.type === 'target') {
    // Kill while the target holds an execution: the executor's request is in flight.
    target.setOnRequest(async () => {
      if (target.log.length - targetCallsBefore === kill.call) {
        record.killedBy = 'target';
        await gw.kill();
      }
    });
  }
  let thenTimer;
  const cut =
    kill.type === 'dbconn'
      ? setTimeout(async () => {
          ledger.connectionsCut = true;
          record.connectionsCut = await store.killConnections();
          thenTimer = setTimeout(() => {
            record.killedBy ||= 'dbconn';
            void gw.kill();
          }, kill.thenMs);
        }, kill.atMs)
      : undefined;
  const timer = setTimeout(() => {
    record.killedBy ||= kill.type === 'timer' ? 'timer' : 'timer-fallback';
    void gw.kill();
  }, kill.type === 'timer' ? kill.atMs : args.maxWorkMs + 1000);
  const urls = [gw.url, ...others.map((o) => o.url)];
  const acked = await driveWorkload({ urls, secrets, r, ledger, workers: args.workers, until: gw.exited });
  record.acked = acked;
  record.storageRefusals = ledger.storageRefusals ?? 0;
  ledger.connectionsCut = false;
  ledger.storageRefusals = 0;
  const exit = await gw.exited;
  clearTimeout(timer);
  clearTimeout(cut);
  clearTimeout(thenTimer);
  target.setOnRequest(undefined);
  if (!record.killedBy) record.killedBy = exit.signal === 'SIGKILL' ? `point:${kill.point}` : `exit:${exit.code ?? exit.signal}`;
}

/**
 * Starts the gateway, again (twice at most) when a start hangs: on a loaded machine a
 * start can outlast the timeout; that is the machine, not a broken promise, but it is
 * counted (slowStarts) and a third hang fails the run.
 */
async function startPatiently(opts, record) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startGateway(opts);
    } catch (e) {
      if (!e.slow || attempt >= 3) throw e;
      record.slowStarts = (record.slowStarts ?? 0) + 1;
    }
  }
}

function forcedKill(text) {
  const [what, n] = text.split(':');
  const v = Number(n ?? 1);
  if (what === 'timer') return { type: 'timer', atMs: v };
  if (what === 'target') return { type: 'target', call: v };
  if (what === 'dbconn') return { type: 'dbconn', atMs: v, thenMs: 300 };
  return { type: 'point', point: what, hit: v };
}

function newLedger() {
  // nonce -> { id, fingerprint, scenario, status } once the API acknowledged the submission;
  // decisions the API acknowledged; idempotent submissions never answered (retried after restart).
  return { subs: new Map(), decisions: [], unanswered: [], violations: [], serverErrors: [] };
}

function describeKill(k) {
  if (k.type === 'dbconn') return `connections cut at ${k.atMs} ms, killed ${k.thenMs} ms later`;
  return k.type === 'timer' ? `timer ${k.atMs} ms` : k.type === 'target' ? `target call ${k.call}` : `${k.point} #${k.hit}`;
}

function tally(xs) {
  const m = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return m;
}

/** `countersign audit verify` on the stopped gateway's store: integrity and governance. */
async function verifyAudit(configPath, env, previousSize) {
  const v = await runCli(['audit', 'verify', '--config', configPath, '--json', '--no-progress'], env);
  const violations = [];
  let report;
  try {
    report = JSON.parse(v.stdout);
  } catch {
    violations.push({ type: 'audit', detail: `verify printed no report (exit ${v.code}): ${v.stderr.slice(0, 500)}` });
    return { violations };
  }
  if (v.code !== 0) violations.push({ type: 'audit', detail: `verify exit ${v.code}: ${JSON.stringify(report.findings ?? report).slice(0, 1000)}` });
  const size = report.entries?.end;
  if (typeof size === 'number' && size < previousSize) violations.push({ type: 'lost', detail: `the audit log shrank from ${previousSize} to ${size} entries` });
  return { violations, size };
}

main().catch((e) => {
  process.stderr.write(`crash campaign failed to run: ${e.stack ?? e}\n`);
  process.exit(2);
});
