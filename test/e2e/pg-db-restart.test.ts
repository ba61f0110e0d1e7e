// The database restarted under load, for real: a gateway on its own private PostgreSQL
// cluster, agents submitting all the while, the server stopped (fast shutdown: every
// session ends) and started again. During the outage the gateway decides nothing (503
// with a code, /readyz not ready) and stays up; afterwards it recovers by itself, every
// action it acknowledged is there, and the audit log verifies.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgCluster } from '../../src/demo/local-postgres.js';
import { startPgCluster } from '../../src/demo/local-postgres.js';
import type { ServerProcess, Workspace } from './harness.js';
import { raw, runCli, startServer, startTarget, until, workspace } from './harness.js';

let cluster: PgCluster;
let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess;

const env = () => ({ ...ws.env, DATABASE_URL: cluster.url('postgres') });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  cluster = await startPgCluster();
  target = await startTarget();
  ws = workspace(target.url, { extraConfig: 'audit: { readerGroups: [admin], checkpoints: { maxDelay: 1s } }\n' });
  writeFileSync(
    ws.configPath,
    readFileSync(ws.configPath, 'utf8').replace(
      'store: { sqlite: ./countersign.db }',
      'store: { postgres: { url: "${DATABASE_URL}", schema: restart, pool: { max: 4 }, connectTimeout: 2s, statementTimeout: 5s } }',
    ),
  );
  server = await startServer({ ...ws, env: env() });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
  await cluster?.stop();
});

interface Outcome {
  status: number;
  code?: string;
  id?: string;
  actionStatus?: string;
}

describe('the database restarted under load', () => {
  it('fails closed while the database is down, recovers by itself, and loses no acknowledged action', async () => {
    const outcomes: Outcome[] = [];
    let running = true;
    let n = 0;
    // Four agents in a loop: allowed reads (executed) and reviewed releases.
    const agents = Array.from({ length: 4 }, async (_, w) => {
      while (running) {
        const i = n++;
        const input = i % 3 === 0 ? { method: 'POST', path: '/repos/acme/app/releases', body: { tag_name: `v${w}.${i}` } } : { method: 'GET', path: `/repos/acme/app/${i}` };
        try {
          const r = await raw(server.url, '/v1/actions', { method: 'POST', token: ws.tokens.agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'http', target: 'github', input }) });
          outcomes.push({ status: r.status, code: r.body.error?.code, id: r.body.id as string | undefined, actionStatus: r.body.status as string | undefined });
        } catch (e) {
          outcomes.push({ status: 0, code: String((e as Error).message) });
        }
        await sleep(10);
      }
    });
    await sleep(1000);
    const before = outcomes.filter((o) => o.status === 200 || o.status === 201).length;
    expect(before).toBeGreaterThan(0);

    await cluster.halt();
    const down = Date.now();
    // While it is down: not ready, and every decision refused with a code.
    const ready = await until(() => raw(server.url, '/readyz'), (r) => r.status === 503, 15_000);
    expect(ready.body).toMatchObject({ status: 'unavailable', database: 'unreachable' });
    expect(JSON.stringify(ready.body)).not.toContain(cluster.password);
    const refused = await raw(server.url, '/v1/actions', {
      method: 'POST',
      token: ws.tokens.agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/app/outage' } }),
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('STORAGE_ERROR');
    expect(JSON.stringify(refused.body)).not.toContain(cluster.password);
    await sleep(Math.max(0, 1500 - (Date.now() - down)));
    expect(server.child.exitCode).toBeNull();

    await cluster.resume();
    // Back by itself: ready again, and submissions succeed again.
    await until(() => raw(server.url, '/readyz'), (r) => r.status === 200, 30_000);
    const afterCount = () => outcomes.filter((o, i) => i > outcomes.length - 20 && (o.status === 200 || o.status === 201)).length;
    await until(async () => afterCount(), (c) => c >= 10, 30_000);
    running = false;
    await Promise.all(agents);

    // Only two answers: a decision, or 503 STORAGE_ERROR. Never a decision lost.
    const odd = outcomes.filter((o) => !(o.status === 200 || o.status === 201) && !(o.status === 503 && o.code === 'STORAGE_ERROR'));
    expect(odd).toEqual([]);
    expect(outcomes.filter((o) => o.status === 503).length).toBeGreaterThan(0);
    const acknowledged = outcomes.filter((o) => o.id);
    expect(acknowledged.length).toBeGreaterThan(before);
    for (const o of acknowledged) {
      const got = await raw(server.url, `/v1/actions/${o.id}`, { token: ws.tokens.carol });
      expect(got.status, `action ${o.id} acknowledged as ${o.actionStatus}`).toBe(200);
    }
    // Reviewed actions acknowledged before the outage can still be approved, and run once.
    const pending = acknowledged.filter((o) => o.actionStatus === 'pending').slice(0, 3);
    for (const o of pending) {
      const a = await server.client(ws.tokens.agent).get(o.id!);
      await server.client(ws.tokens.alice).approve(a.id, a.fingerprint);
      await server.client(ws.tokens.dave).approve(a.id, a.fingerprint);
      expect((await server.client(ws.tokens.agent).wait(a.id, { timeoutSeconds: 20 })).status).toBe('succeeded');
    }
    const verify = await runCli(['audit', 'verify', '--config', ws.configPath], env());
    expect(verify.code, verify.stderr).toBe(0);
    expect(server.logs.join('\n')).not.toContain(cluster.password);
  }, 120_000);
});
