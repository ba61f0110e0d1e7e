// The web console: server time of the inbox page with 10,000 pending actions (goal p50
// <= 50 ms), and server-sent-event fan-out to 500 open consoles. In process, on the
// compiled gateway code (dist/): the console's routes on Fastify, the SQLite store, real
// sessions. The inbox is timed with app.inject (no network); the fan-out over real
// HTTP connections on loopback. Knobs: BENCH_PENDING, BENCH_CONSOLES, BENCH_SAMPLES.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import { percentile, verdict, writeFragment } from './bench-util.mjs';

const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { createSqliteStore } = await import(dist('adapters/store/sqlite/sqlite-store.js'));
const { consolePlugin } = await import(dist('console/console-plugin.js'));
const { createConsoleOidc } = await import(dist('console/console-oidc.js'));
const { createConsoleSessions } = await import(dist('console/console-sessions.js'));
const { createActionEvents } = await import(dist('services/action-events.js'));
const { createQueryService } = await import(dist('services/query-service.js'));
const { createReviewService } = await import(dist('services/review-service.js'));
const { createAuditQueryService } = await import(dist('services/audit-query-service.js'));
const { createLogger } = await import(dist('logger.js'));

const PENDING = Number(process.env.BENCH_PENDING ?? 10_000);
const CONSOLES = Number(process.env.BENCH_CONSOLES ?? 500);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const ROUNDS = 30;

const dir = mkdtempSync(join(tmpdir(), 'countersign-console-bench-'));
const store = createSqliteStore({ path: join(dir, 'bench.db') });
const clock = { now: () => new Date() };
const humans = [
  { id: 'alice@example.com', groups: ['release'] },
  { id: 'carol@example.com', groups: ['release'] },
];

function record(i) {
  const created = new Date(Date.now() - (PENDING - i) * 1000).toISOString();
  const input = { method: 'POST', path: '/repos/acme/app/releases', body: { tag: `v${i}` } };
  return {
    id: `act_bench${String(i).padStart(12, '0')}`,
    kind: 'http',
    target: 'github',
    input,
    justification: `release ${i}`,
    mode: 'execute',
    requester: { id: 'deploy-bot', type: 'agent', owner: 'carol@example.com' },
    fingerprint: `sha256:${createHash('sha256').update(JSON.stringify(input)).digest('hex')}`,
    status: 'pending',
    decision: { outcome: 'review', rules: ['releases'], policyVersion: `sha256:${'0'.repeat(64)}`, reason: 'review required by releases' },
    review: { requirements: [{ ruleId: 'releases', approvers: ['group:release'], quorum: 2, timeoutMs: 86_400_000 }], reviews: [], expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
    createdAt: created,
    updatedAt: created,
    version: 1,
  };
}

process.stdout.write(`inserting ${PENDING} pending actions...\n`);
for (let i = 0; i < PENDING; i += 500) {
  await Promise.all(Array.from({ length: Math.min(500, PENDING - i) }, (_, k) => store.insertAction(record(i + k), [])));
}

const events = createActionEvents();
const queries = createQueryService({ store, events, auditorGroups: [] });
const config = {
  enabled: true,
  oidc: { issuer: 'https://idp.example.com', clientId: 'bench', clientSecret: 'bench-secret', scopes: ['openid'], groupsClaim: 'groups', emailClaim: 'email', requireVerifiedEmail: true, mapping: {}, allowInsecureHttp: false },
  session: { ttl: '8h', idle: '30m' },
  pageSize: 50,
  linkTtl: '15m',
};
const sessions = createConsoleSessions({ store: store.console, clock, ttlMs: 8 * 3_600_000, idleMs: 30 * 60_000 });
let port = 0;
const deps = {
  config,
  humans,
  publicUrl: () => `http://127.0.0.1:${port}`,
  store,
  queries,
  reviews: createReviewService({ store, clock, notifier: events, dispatch: () => {} }),
  audit: createAuditQueryService({ store, log: store, queries, readerGroups: [] }),
  events,
  clock,
  oidc: createConsoleOidc(config.oidc, () => 'http://127.0.0.1/console/auth/callback'),
  sessions,
  auditorGroups: [],
  verifierKeys: [],
  logger: createLogger('silent'),
};
const app = Fastify({ logger: false });
await app.register((scope) => consolePlugin(scope, deps), { prefix: '/console' });
await app.listen({ host: '127.0.0.1', port: 0 });
port = app.server.address().port;

const alice = await sessions.start({ id: 'alice@example.com', known: true, groups: ['release'] });
const carol = await sessions.start({ id: 'carol@example.com', known: true, groups: ['release'] });

async function inboxTimes(token) {
  const cookie = `cs_session=${token}`;
  for (let i = 0; i < 20; i++) await app.inject({ url: '/console/inbox', headers: { cookie } });
  const out = [];
  let rows = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    const r = await app.inject({ url: '/console/inbox', headers: { cookie } });
    out.push(performance.now() - t);
    if (r.statusCode !== 200) throw new Error(`inbox answered ${r.statusCode}`);
    rows = (r.body.match(/<tr data-id=/g) ?? []).length;
  }
  return { ms: out.sort((a, b) => a - b), rows };
}

const eligible = await inboxTimes(alice.token);
const owner = await inboxTimes(carol.token);

// SSE fan-out: CONSOLES event streams open as alice; one change reaches all of them.
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const streams = [];
await Promise.all(
  Array.from({ length: CONSOLES }, () =>
    new Promise((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port, path: '/console/events', agent, headers: { cookie: `cs_session=${alice.token}` } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`events answered ${res.statusCode}`));
        const s = { res, waiting: undefined, buf: '' };
        res.setEncoding('utf8');
        res.on('data', (c) => {
          s.buf += c;
          if (s.buf.includes('retry:') && !s.opened) {
            s.opened = true;
            resolve();
          }
          let i;
          while ((i = s.buf.indexOf('\n\n')) >= 0) {
            const frame = s.buf.slice(0, i);
            s.buf = s.buf.slice(i + 2);
            if (frame.startsWith('event: action') && s.waiting) {
              const w = s.waiting;
              s.waiting = undefined;
              w();
            }
          }
        });
        streams.push(s);
      });
      req.on('error', reject);
    }),
  ),
);
const sample = await store.getAction(record(PENDING - 1).id);
const fan = [];
for (let r = 0; r < ROUNDS; r++) {
  const all = Promise.all(streams.map((s) => new Promise((res) => (s.waiting = res))));
  const t = performance.now();
  events.notify({ type: 'changed', action: sample });
  await all;
  fan.push(performance.now() - t);
}
fan.sort((a, b) => a - b);
for (const s of streams) s.res.destroy();
await app.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

const f = (x) => x.toFixed(1);
const p50 = percentile(eligible.ms, 50);
const md = `## Web console

The inbox page's server time (session lookup, the store's audience index, the review
rules' eligibility check per row, rendering) with ${PENDING.toLocaleString('en-US')} pending actions, timed with
\`app.inject\` (no network), ${SAMPLES} requests one after another; and server-sent-event
fan-out: ${CONSOLES} consoles hold \`/console/events\` open over loopback HTTP, one change is
published, and the time until every console received it is measured (${ROUNDS} rounds).
In process, on the compiled code (bench/console-bench.mjs).

| Inbox, ${PENDING.toLocaleString('en-US')} pending | rows shown | p50 ms | p95 ms | p99 ms |
| --- | ---: | ---: | ---: | ---: |
| an eligible approver (every action is theirs to decide) | ${eligible.rows} | ${f(p50)} | ${f(percentile(eligible.ms, 95))} | ${f(percentile(eligible.ms, 99))} |
| the agents' owner (every row is read and skipped, separation of duties; the scan stops at 500 rows, then offers the next page) | ${owner.rows} | ${f(percentile(owner.ms, 50))} | ${f(percentile(owner.ms, 95))} | ${f(percentile(owner.ms, 99))} |

Goal: inbox p50 <= 50 ms for an eligible approver: ${verdict(p50 <= 50)} (${f(p50)} ms).

| SSE fan-out | p50 ms | p95 ms | max ms |
| --- | ---: | ---: | ---: |
| one change to ${CONSOLES} open consoles, until the last one received it | ${f(percentile(fan, 50))} | ${f(percentile(fan, 95))} | ${f(fan[fan.length - 1])} |

Measured on one process; on PostgreSQL a change committed by another replica reaches these
consoles too, one read of the action per replica (docs/console.md).
`;
process.stdout.write(`${md}\n`);
writeFragment('console-bench', md);
process.exit(0);
