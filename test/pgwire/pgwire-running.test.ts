import { spawn } from 'node:child_process';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../e2e/harness.js';
import type { WireEnv } from './pgwire-harness.js';
import { conninfo, pgClient, psql, psqlPath, sendCancel, startWireEnv } from './pgwire-harness.js';

// Statements allowed by policy while they run upstream: the target's statement_timeout
// applies to them, and a CancelRequest reaches the backend that runs them.

let env: WireEnv;
beforeAll(async () => {
  env = await startWireEnv({
    // pg_sleep is a function the facts cannot call read-only: this policy allows any SELECT.
    policy: `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: selects
    match: { kind: sql }
    when: sql.types.all(t, t in ["select", "show"])
    outcome: allow
`,
    // The same database, as a target whose statements may run 1 second.
    targets: '  quick-db: { kind: postgres, url: "${T_SHOP_DB}", limits: { statementTimeout: 1s } }\n',
    extra: '    shop_quick: { target: quick-db }\n',
  });
});
afterAll(async () => {
  await env?.close();
});

const agentToken = () => env.ws.tokens.agent;
const api = () => env.server.client(agentToken());

/** The newest action of the agent whose statement is `statement`, once it has the status wanted. */
async function actionFor(statement: string, status?: string) {
  const page = await until(
    async () => (await api().list({ limit: 50 })).actions,
    (as) => as.some((a) => (a.input as { statement?: string }).statement === statement && (!status || a.status === status)),
  );
  return page.find((a) => (a.input as { statement?: string }).statement === statement)!;
}

describe("the target's statementTimeout", () => {
  it('is the session default upstream, as SHOW reports it', async () => {
    const quick = await psql(env, [conninfo(env, 'deploy-bot', 'shop_quick'), '-At', '-c', 'SHOW statement_timeout'], agentToken());
    expect(quick.stderr).toBe('');
    expect(quick.stdout).toBe('1s\n');
    const normal = await psql(env, [conninfo(env, 'deploy-bot', 'shop'), '-At', '-c', 'SHOW statement_timeout'], agentToken());
    expect(normal.stdout).toBe('30s\n');
  });

  it('stops a statement that runs longer: 57014 to the client, the action failed with it, the session usable', async () => {
    const c = pgClient(env, 'deploy-bot', agentToken(), 'shop_quick');
    await c.connect();
    try {
      const statement = 'SELECT pg_sleep(20)';
      const e = (await c.query(statement).then(
        () => undefined,
        (err: pg.DatabaseError) => err,
      ))!;
      expect(e.code).toBe('57014');
      expect(e.message).toMatch(/statement timeout/);
      const a = await actionFor(statement, 'failed');
      expect(a.result?.error?.message).toMatch(/57014/);
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
  });
});

describe('a CancelRequest while an allowed statement runs upstream', () => {
  it('from psql (Ctrl-C): the upstream backend stops, psql prints the cancellation, the action is recorded ABORTED', async () => {
    const statement = 'SELECT pg_sleep(30)';
    const child = spawn(psqlPath(env), ['-X', conninfo(env, 'deploy-bot'), '-c', statement], { env: { ...process.env, PGPASSWORD: agentToken() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const running = await actionFor(statement, 'running');
    // psql sends the protocol's CancelRequest on SIGINT, as on Ctrl-C.
    child.kill('SIGINT');
    expect(await exited).not.toBe(0);
    expect(stderr).toMatch(/canceling statement due to user request/);
    const done = await until(() => api().get(running.id), (a) => a.status !== 'running');
    expect(done.status).toBe('failed');
    expect(done.result?.error?.code).toBe('ABORTED');
    expect(done.result?.error?.message).toMatch(/cancelled the statement while it ran/);
    // Nothing runs on in the database.
    const busy = await env.db.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'");
    expect(busy.rows[0]).toEqual({ n: 0 });
  });

  it('from node-postgres, in the extended protocol: 57014, and the same session runs the next statement', async () => {
    const c = pgClient(env, 'deploy-bot', agentToken());
    await c.connect();
    try {
      const statement = 'SELECT pg_sleep($1)';
      const pending = c.query(statement, [30]).then(
        () => undefined,
        (err: pg.DatabaseError) => err,
      );
      const running = await actionFor(statement, 'running');
      await sendCancel(env, c);
      const e = await pending;
      expect(e?.code).toBe('57014');
      const done = await until(() => api().get(running.id), (a) => a.status !== 'running');
      expect(done.status).toBe('failed');
      expect(done.result?.error?.code).toBe('ABORTED');
      expect((await c.query('SELECT plan FROM customers WHERE id = $1', [4])).rows).toEqual([{ plan: 'pro' }]);
    } finally {
      await c.end();
    }
  });

  it('a wrong cancel key stops nothing: the statement runs to its end and succeeds', async () => {
    const c = pgClient(env, 'deploy-bot', agentToken());
    await c.connect();
    try {
      const statement = 'SELECT pg_sleep(3)';
      const pending = c.query(statement);
      const running = await actionFor(statement, 'running');
      await sendCancel(env, c, 1);
      await pending;
      const done = await until(() => api().get(running.id), (a) => a.status !== 'running');
      expect(done.status).toBe('succeeded');
    } finally {
      await c.end();
    }
  });
});
