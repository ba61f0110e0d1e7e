// Three gateway replicas on one PostgreSQL schema, killed with SIGKILL at random
// moments and restarted while agents submit a mix of allowed, denied and reviewed
// actions spread across them and humans approve on other replicas. Afterwards every
// action is accounted for: none executed twice (the target counts calls), none executed
// without its approvals, the audit log's sequence numbers are contiguous and it verifies.
//
// CI kills COUNTERSIGN_REPLICA_KILLS replicas (default 20); `npm run soak:replicas`
// runs the same test with many more.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/types.js';
import { CountersignError } from '../../src/client/errors.js';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import type { ServerProcess, Workspace } from './harness.js';
import { raw, runCli, startServer, startTarget, until, workspace } from './harness.js';

const KILLS = Number(process.env.COUNTERSIGN_REPLICA_KILLS ?? 20);
const REPLICAS = 3;

let db: TestDatabase;
let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let vkey: string;
const replicas: Array<ServerProcess | undefined> = [];

const env = () => ({ ...ws.env, DATABASE_URL: db.url });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const live = () => replicas.filter((r): r is ServerProcess => !!r && r.child.exitCode === null && r.child.signalCode === null);

/** Calls `fn` on a live replica, on another one if that replica dies under the call. */
async function onAnyReplica<T>(fn: (s: ServerProcess) => Promise<T>, avoid?: ServerProcess): Promise<T> {
  for (let i = 0; ; i++) {
    const up = live();
    const choice = up.length > 1 && avoid ? pick(up.filter((s) => s !== avoid)) : up.length ? pick(up) : undefined;
    if (!choice) {
      await sleep(50);
      continue;
    }
    try {
      return await fn(choice);
    } catch (e) {
      // A dead replica (connection refused or reset) or a 503 while it loses its database: try another.
      const transient = !(e instanceof CountersignError) || e.status === 0 || e.status >= 500;
      if (!transient || i > 400) throw e;
      await sleep(20);
    }
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  // Each call takes a while, so that some are in flight when their replica dies.
  target = await startTarget((_r, res) => {
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 30 + Math.random() * 120);
    return true;
  });
  ws = workspace(target.url, { extraConfig: 'audit: { readerGroups: [admin], origin: replicas.e2e.example/log, checkpoints: { maxDelay: 1s } }\n' });
  writeFileSync(ws.configPath, readFileSync(ws.configPath, 'utf8').replace('store: { sqlite: ./countersign.db }', 'store: { postgres: { url: "${DATABASE_URL}", schema: replicas, pool: { max: 4 } } }').replace('log: { level: info }', 'log: { level: warn }\n'));
  const key = await runCli(['audit', 'key', '--config', ws.configPath], env());
  expect(key.code).toBe(0);
  vkey = key.stdout.trim();
  // Replicas that start together migrate once (the advisory lock); they may log at warn only, so the harness waits for "listening" at info.
  writeFileSync(ws.configPath, readFileSync(ws.configPath, 'utf8').replace('log: { level: warn }', 'log: { level: info }'));
  const started = await Promise.all(Array.from({ length: REPLICAS }, () => startServer({ ...ws, env: env() })));
  replicas.push(...started);
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => (r ? r.stop() : Promise.resolve(null))));
  await target?.close();
  ws?.cleanup();
  await db?.drop();
});

interface Submitted {
  tag: string;
  kind: 'read' | 'delete' | 'release';
  id?: string;
}

describe('several replicas on one database, killed at random', () => {
  it(`accounts for every action after ${KILLS} replicas were killed: none twice, none unapproved, one contiguous verified log`, async () => {
    const submitted: Submitted[] = [];
    let kills = 0;
    let stop = false;

    // Kills a live replica every 0.3-1 s (keeping one up) and restarts it in the background,
    // so that kills do not wait for restarts (a start takes seconds on a busy machine).
    const restarts: Array<Promise<void>> = [];
    const killer = (async () => {
      while (kills < KILLS) {
        await sleep(300 + Math.random() * 700);
        const up = live();
        if (up.length < 2) continue;
        const victim = pick(up);
        const slot = replicas.indexOf(victim);
        await victim.stop('SIGKILL');
        kills++;
        replicas[slot] = undefined;
        restarts.push(
          startServer({ ...ws, env: env() }).then((r) => {
            replicas[slot] = r;
          }),
        );
      }
      await Promise.all(restarts);
      stop = true;
    })();

    let n = 0;
    const agentLoop = async () => {
      while (!stop) {
        // Paced, so that the replicas' restarts get CPU on a 2-core machine.
        await sleep(40);
        const i = n++;
        const kind = (['read', 'delete', 'release'] as const)[i % 3]!;
        const s: Submitted = { tag: `t${i}`, kind };
        submitted.push(s);
        const input =
          kind === 'read'
            ? { method: 'GET', path: `/repos/acme/app/tags/${s.tag}` }
            : kind === 'delete'
              ? { method: 'DELETE', path: `/repos/acme/app/tags/${s.tag}` }
              : { method: 'POST', path: '/repos/acme/app/releases', body: { tag_name: s.tag } };
        // The idempotency key makes a retry on another replica return the same action.
        const a = await onAnyReplica((r) => r.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input }, { idempotencyKey: s.tag }));
        s.id = a.id;
        if (kind !== 'release') continue;
        // Two humans approve, each on a replica other than the one that took the submission (when one is up).
        for (const who of [ws.tokens.alice, ws.tokens.bob]) {
          await onAnyReplica(async (r) => {
            try {
              await r.client(who).approve(a.id, a.fingerprint);
            } catch (e) {
              // A retry of an approval that committed before its replica died: already reviewed.
              if (e instanceof CountersignError && e.status >= 400 && e.status < 500) return;
              throw e;
            }
          });
        }
      }
    };
    const t0 = Date.now();
    await Promise.all([killer, agentLoop(), agentLoop()]);
    expect(kills).toBe(KILLS);
    const t1 = Date.now();

    // Everything settles on the replicas left running.
    const settled = new Set(['succeeded', 'failed', 'denied']);
    const finals = new Map<string, Action>();
    for (const s of submitted) {
      const a = await until(
        () => onAnyReplica((r) => r.client(ws.tokens.carol).get(s.id!)),
        (x) => settled.has(x.status),
        30_000,
      );
      expect(settled.has(a.status), `${s.tag} is ${a.status}`).toBe(true);
      finals.set(s.tag, a);
    }

    const t2 = Date.now();
    if (process.env.COUNTERSIGN_REPLICA_TIMING) console.log({ actions: submitted.length, killPhaseMs: t1 - t0, settleMs: t2 - t1, statuses: [...finals.values()].reduce<Record<string, number>>((m, a) => ({ ...m, [a.status]: (m[a.status] ?? 0) + 1 }), {}) });
    const calls = new Map<string, number>();
    for (const r of target.received) {
      const tag = r.method === 'POST' ? (JSON.parse(r.body) as { tag_name: string }).tag_name : r.url.split('/').at(-1)!;
      calls.set(tag, (calls.get(tag) ?? 0) + 1);
    }
    for (const s of submitted) {
      const a = finals.get(s.tag)!;
      const count = calls.get(s.tag) ?? 0;
      expect(count, `${s.tag} executed ${count} times`).toBeLessThanOrEqual(1);
      if (s.kind === 'delete') {
        expect(a.status).toBe('denied');
        expect(count).toBe(0);
      }
      if (a.status === 'succeeded') expect(count).toBe(1);
      if (a.status === 'failed') expect((a.result as { error?: { code: string } } | undefined)?.error?.code, `${s.tag} failed`).toBe('INTERRUPTED');
      if (s.kind === 'release' && count > 0) {
        const approvals = (a.review?.reviews ?? []).filter((x) => x.verdict === 'approve').map((x) => x.reviewer);
        expect(new Set(approvals)).toEqual(new Set(['alice@example.com', 'bob@example.com']));
      }
    }

    // One log: contiguous sequence numbers, a checkpoint covering it, and it verifies offline.
    const size = await onAnyReplica(async (r) => (await raw(r.url, '/v1/audit/entries?start=0&end=1', { token: ws.tokens.carol })).body.size as number);
    for (let start = 0; start < size; start += 100) {
      const page = await onAnyReplica((r) => raw(r.url, `/v1/audit/entries?start=${start}&end=${Math.min(size, start + 100)}`, { token: ws.tokens.carol }));
      expect((page.body.entries as Array<{ seq: number }>).map((e) => e.seq)).toEqual(Array.from({ length: Math.min(100, size - start) }, (_, i) => start + i));
    }
    await until(
      () => onAnyReplica((r) => fetch(`${r.url}/v1/audit/checkpoint`, { headers: { authorization: `Bearer ${ws.tokens.carol}` } }).then((x) => x.text())),
      (t) => Number(t.split('\n')[1]) >= size,
      20_000,
    );
    const verify = await runCli(['audit', 'verify', '--config', ws.configPath, '--key', vkey], env());
    expect(verify.stdout).toMatch(/^VERIFIED/m);
    expect(verify.code).toBe(0);
  }, 600_000);
});
