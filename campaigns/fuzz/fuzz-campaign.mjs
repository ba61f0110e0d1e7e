#!/usr/bin/env node
// The fuzz driver (docs/reliability.md): mutates valid requests to every way in of a
// running gateway (the HTTP API, MCP over HTTP, the Claude Code hook) and sends them,
// many at once. Fails on any 5xx, any dropped connection or crash, any answer slower
// than --hang-ms; at the end the audit log must verify and no canary may show up.
//
//   npm run campaign:fuzz -- --inputs 1000000 [--seed N] [--concurrency 64] [--cpu-prof DIR]
//
// It starts its own gateway (SQLite, in a temp dir); --cpu-prof DIR profiles it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parseArgs } from '../lib/args.mjs';
import { canaryReport, newCanary } from '../lib/canaries.mjs';
import { startCountingTarget } from '../lib/counting-target.mjs';
import { runCli, startGateway } from '../lib/gateway.mjs';
import { rng } from '../lib/rng.mjs';
import { mutateRequest, TEMPLATES } from './fuzz-mutations.mjs';

const args = parseArgs(process.argv.slice(2), { inputs: 10_000, seed: 0, concurrency: 64, hangMs: 10_000, out: '', quiet: false, keep: false, cpuProf: '' });
const seed = args.seed || (randomBytes(4).readUInt32BE(0) >>> 1);
const say = (s) => !args.quiet && process.stdout.write(`${s}\n`);

const POLICY = `
default: { outcome: review, review: { approvers: [group:ops], quorum: 1, timeout: 1h } }
rules:
  - id: reads
    match: { kind: http, target: api }
    when: http.method == "GET"
    outcome: allow
  - id: deletes
    match: { kind: http }
    when: http.method == "DELETE"
    outcome: deny
  - id: tools
    match: { kind: tool }
    when: tool.name == "Read"
    outcome: allow
  # Other tools are denied: a tool call held for review keeps the Claude Code hook
  # waiting (by design), which the driver would count as a hang.
  - id: other-tools
    match: { kind: tool }
    when: tool.name != "Read"
    outcome: deny
`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-fuzz-'));
  const labels = new Map();
  const canary = (what) => {
    const v = newCanary();
    labels.set(v, what);
    return v;
  };
  const secrets = { agent: canary('agent-token'), alice: canary('alice-token'), auditor: canary('auditor-token'), target: canary('target-credential') };
  const target = await startCountingTarget();
  const configPath = join(dir, 'countersign.yaml');
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  writeFileSync(
    configPath,
    `listen: 127.0.0.1:0
store: { sqlite: ./countersign.db }
policy: ./policy.yaml
agents:
  - { id: fuzz-bot, token: "\${T_AGENT}", owner: owner@example.com }
humans:
  - { id: alice@example.com, groups: [ops], token: "\${T_ALICE}" }
  - { id: audra@example.com, groups: [auditor], token: "\${T_AUDITOR}" }
  - { id: owner@example.com, groups: [owners] }
targets:
  api: { kind: http, baseUrl: "${target.url}/api", headers: { Authorization: "Bearer \${T_TARGET}" }, timeout: 5s }
# A long poll may last up to maxWaitSeconds: kept under --hang-ms, so that any answer
# slower than that is a hang, not a wait the request asked for (a mutated ?wait=0x10
# is a valid 16 s wait: the million-input run counted six of those as hangs).
server: { maxWaitSeconds: 5 }
audit: { signingKeyFile: ./audit-signing.key }
log: { level: info }
`,
  );
  const env = { T_AGENT: secrets.agent, T_ALICE: secrets.alice, T_AUDITOR: secrets.auditor, T_TARGET: secrets.target };
  const logFile = join(dir, 'gateway.log');
  const gw = await startGateway({ configPath, env, logFile, nodeArgs: args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', args.cpuProf] : [] });
  const r = rng(seed);
  const statuses = {};
  const failures = [];
  let sent = 0;
  let crashed = false;
  const started = Date.now();
  void gw.exited.then(() => (crashed = true));

  // undici's request API on kept-alive connections, one per worker: fetch's WHATWG
  // machinery (Request, Response, streams, an AbortSignal per call) cost the driver as
  // much CPU as the gateway spent answering (docs/reliability.md, "Fuzz driver speed").
  // The hang limit is undici's headers and body timeouts: no answer in time is a hang.
  const agent = new Agent({ connections: args.concurrency, keepAliveTimeout: 60_000, headersTimeout: args.hangMs, bodyTimeout: args.hangMs });
  const origin = new URL(gw.url).origin;
  const one = async (i) => {
    const req = mutateRequest(r, TEMPLATES, secrets);
    const t0 = Date.now();
    try {
      const res = await request(origin, { dispatcher: agent, path: req.path, method: req.method, headers: req.headers, body: req.body });
      const text = await res.body.text();
      const status = res.statusCode;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 500) failures.push({ type: '5xx', i, status, request: show(req), response: text.slice(0, 500) });
      else if (status >= 400 && req.method !== 'HEAD' && !/"code":"[A-Z_]+"/.test(text)) failures.push({ type: 'undocumented', i, status, request: show(req), response: text.slice(0, 500) });
    } catch (e) {
      const ms = Date.now() - t0;
      const code = e.code ?? e.cause?.code;
      const type = crashed ? 'crash' : code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || ms >= args.hangMs - 50 ? 'hang' : 'dropped';
      failures.push({ type, i, ms, error: String(code ?? e.name), message: String(e.message).slice(0, 200), request: show(req) });
      statuses[type] = (statuses[type] ?? 0) + 1;
    }
  };

  let next = 0;
  const worker = async () => {
    while (!crashed && next < args.inputs) {
      const i = next++;
      await one(i);
      sent++;
      if (sent % 50_000 === 0) say(`${sent} inputs, ${Math.round(sent / ((Date.now() - started) / 1000))}/s, failures ${failures.length}`);
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  const alive = !crashed && (await fetch(`${gw.url}/healthz`).then((x) => x.status === 200, () => false));
  await agent.close();
  await gw.stop();
  const verify = await runCli(['audit', 'verify', '--config', configPath, '--json', '--no-progress'], env);
  await target.close();
  const leaks = canaryReport(dir, [...labels].map(([value, label]) => ({ value, label })));
  const count = (t) => failures.filter((f) => f.type === t).length;
  const summary = {
    campaign: 'fuzz',
    seed,
    args,
    inputs: sent,
    seconds: Math.round(seconds),
    perSecond: Math.round(sent / seconds),
    statuses,
    fivexx: count('5xx'),
    crashes: count('crash') + (alive ? 0 : 1),
    hangs: count('hang'),
    dropped: count('dropped'),
    undocumented: count('undocumented'),
    auditVerify: verify.code,
    canaryLeaks: leaks.found,
    targetCalls: target.log.length,
    failures: failures.slice(0, 200),
  };
  const out = args.out || join(tmpdir(), `countersign-fuzz-${seed}.json`); // outlives the campaign's directory
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  const failed = summary.fivexx + summary.crashes + summary.hangs + summary.dropped + summary.undocumented + leaks.found.length > 0 || verify.code !== 0;
  process.stdout.write(
    `inputs ${sent}, 5xx ${summary.fivexx}, crashes ${summary.crashes}, hangs ${summary.hangs}, dropped ${summary.dropped}, undocumented ${summary.undocumented}, audit verify ${verify.code === 0 ? 'ok' : `exit ${verify.code}`}, canary leaks ${leaks.found.length} (${summary.perSecond}/s, seed ${seed}; details ${out})\n`,
  );
  if (!failed && !args.keep) rmSync(dir, { recursive: true, force: true });
  else say(`fuzz directory kept: ${dir}`);
  process.exitCode = failed ? 1 : 0;
}

function show(req) {
  const body = req.body === undefined ? undefined : Buffer.from(req.body).toString('latin1').slice(0, 400);
  return { method: req.method, path: req.path.slice(0, 300), headers: req.headers, body };
}

main().catch((e) => {
  process.stderr.write(`fuzz campaign failed to run: ${e.stack ?? e}\n`);
  process.exit(2);
});
