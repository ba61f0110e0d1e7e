// Work that runs on a timer on every replica happens once across replicas: two gateway
// processes on one PostgreSQL schema, each with its scheduler (every 100 ms), its
// delivery dispatcher and its checkpoint tick. And the console's live updates reach a
// replica other than the one that committed the change.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/adapters/store/postgres/pg-store.js';
import { tokenHash } from '../../src/console/console-sessions.js';
import { startWebhookReceiver } from '../fakes/webhook-receiver.js';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import type { ServerProcess, Workspace } from './harness.js';
import { runCli, startServer, startTarget, until, workspace } from './harness.js';

const SCHEMA = 'shared_work';
const POLICY = `
default: { outcome: review, review: { approvers: [group:release], quorum: 1, timeout: 15m } }
rules:
  - id: reads
    match: { kind: http, target: github }
    when: http.method == "GET"
    outcome: allow
  - id: quick
    match: { kind: http, target: github }
    when: http.method == "PUT"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1s }
  - id: escalating
    match: { kind: http, target: github }
    when: http.method == "PATCH"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h, escalate: { after: 1s, to: [group:oncall] } }
`;

let db: TestDatabase;
let target: Awaited<ReturnType<typeof startTarget>>;
let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
let ws: Workspace;
let a: ServerProcess;
let b: ServerProcess;

const env = () => ({ ...ws.env, DATABASE_URL: db.url });
const entries = async (actionId: string, type: string) =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.audit_entries WHERE action_id = $1 AND type = $2`, [actionId, type])).rows[0]!.n);

beforeAll(async () => {
  db = await createTestDatabase();
  target = await startTarget();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  hooks = await startWebhookReceiver(secret);
  ws = workspace(target.url, {
    policy: POLICY,
    extraConfig: `audit: { readerGroups: [admin], checkpoints: { maxDelay: 1s } }
channels:
  webhooks:
    - { name: all, url: "${hooks.url}/hook", secret: "\${T_WH}" }
  delivery: { initialBackoff: 100ms, maxBackoff: 500ms, timeout: 2s, intervalMs: 100, maxAttempts: 50 }
console:
  enabled: true
  oidc: { issuer: "http://127.0.0.1:9", clientId: console, clientSecret: "\${T_OIDC}" }
`,
  });
  ws.env.T_WH = secret;
  ws.env.T_OIDC = randomBytes(16).toString('hex');
  writeFileSync(ws.configPath, readFileSync(ws.configPath, 'utf8').replace('store: { sqlite: ./countersign.db }', `store: { postgres: { url: "\${DATABASE_URL}", schema: ${SCHEMA}, pool: { max: 4 } } }`));
  [a, b] = await Promise.all([startServer({ ...ws, env: env() }), startServer({ ...ws, env: env() })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([target?.close(), hooks?.close()]);
  ws?.cleanup();
  await db?.drop();
});

describe('timers on two replicas of one database', () => {
  it('an expiring action expires once: one expiry entry, one expired event sent', async () => {
    const act = await a.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/quick/1' } });
    expect(act.status).toBe('pending');
    const done = await until(() => b.client(ws.tokens.carol).get(act.id), (x) => x.status === 'expired', 15_000);
    expect(done.status).toBe('expired');
    await until(async () => hooks.types(act.id), (t) => t.includes('action.expired'), 15_000);
    // Both schedulers saw it due; the compare-and-swap on its version let one win.
    expect(await entries(act.id, 'action.expired')).toBe(1);
    expect(hooks.types(act.id).filter((t) => t === 'action.expired')).toHaveLength(1);
  });

  it('an escalation fires once', async () => {
    const act = await b.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PATCH', path: '/repos/acme/app' } });
    await until(() => entries(act.id, 'action.escalated'), (n) => n > 0, 15_000);
    // Several more ticks of both schedulers pass: nothing is escalated again.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await entries(act.id, 'action.escalated')).toBe(1);
    const cur = await a.client(ws.tokens.carol).get(act.id);
    expect(cur.status).toBe('pending');
  });

  it('an approved execute-mode action runs once, and each of its events is delivered once', async () => {
    const calls = () => target.received.filter((r) => r.url === '/api/repos/acme/once').length;
    const act = await a.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/once', body: { n: 1 } } });
    await b.client(ws.tokens.alice).approve(act.id, act.fingerprint);
    const done = await a.client(ws.tokens.agent).wait(act.id, { timeoutSeconds: 20 });
    expect(done.status).toBe('succeeded');
    expect(calls()).toBe(1);
    expect(await entries(act.id, 'execution.started')).toBe(1);
    const types = await until(async () => hooks.types(act.id), (t) => t.includes('action.succeeded'), 15_000);
    // Give both dispatchers a few more rounds: nothing is sent twice.
    await new Promise((r) => setTimeout(r, 1000));
    expect(hooks.types(act.id)).toEqual(types);
    expect(types).toEqual(['action.pending', 'action.reviewed', 'action.approved', 'action.running', 'action.succeeded']);
    const ids = hooks.received.filter((x) => (x.body.data as { actionId: string }).actionId === act.id).map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(calls()).toBe(1);
  });

  it('signs one checkpoint per size, whichever replica holds the signer lease', async () => {
    await until(async () => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.audit_checkpoints`)).rows[0]!.n), (n) => n > 0, 15_000);
    const verify = await runCli(['audit', 'verify', '--config', ws.configPath], env());
    expect(verify.code, verify.stderr).toBe(0);
  });
});

describe('console live updates across replicas', () => {
  it('a change committed on replica B appears on the event stream open on replica A', async () => {
    // A console session as sign-in would create it (the OIDC flow itself is tested elsewhere).
    const store = await createPostgresStore({ url: db.url, schema: SCHEMA, listen: false, migrate: 'never' });
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    try {
      await store.console.createSession(
        { id: `cs_${randomBytes(9).toString('base64url')}`, human: 'alice@example.com', known: true, groups: ['release'], createdAt: now.toISOString(), lastSeenAt: now.toISOString(), expiresAt: new Date(now.getTime() + 3600_000).toISOString() },
        tokenHash(token),
        [{ type: 'console.session.started', ts: now.toISOString(), actor: { type: 'human', id: 'alice@example.com' }, data: { human: 'alice@example.com' } }],
      );
    } finally {
      await store.close();
    }
    const ac = new AbortController();
    const res = await fetch(`${a.url}/console/events`, { headers: { cookie: `cs_session=${token}` }, signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const seen: string[] = [];
    const decoder = new TextDecoder();
    const read = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        seen.push(decoder.decode(value, { stream: true }));
      }
    })().catch(() => undefined);
    try {
      await new Promise((r) => setTimeout(r, 300)); // the stream is open on A
      const act = await b.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/live' } });
      const text = () => seen.join('');
      await until(async () => text(), (t) => t.includes(act.id), 10_000);
      expect(text()).toContain(`data: {"id":"${act.id}","status":"pending"}`);
      await b.client(ws.tokens.bob).deny(act.id, 'not now');
      await until(async () => text(), (t) => t.includes(`"id":"${act.id}","status":"denied"`), 10_000);
      expect(text()).toContain(`data: {"id":"${act.id}","status":"denied"}`);
      // One event per change, not an echo of each (B's own stream would hold the same).
      expect(text().split(`"id":"${act.id}","status":"pending"`).length - 1).toBe(1);
    } finally {
      ac.abort();
      await read;
    }
  });
});
