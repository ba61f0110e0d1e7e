import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../e2e/harness.js';
import type { WireEnv } from './pgwire-harness.js';
import { conninfo, pgClient, psql, psqlPath, startWireEnv } from './pgwire-harness.js';

let env: WireEnv;
beforeAll(async () => {
  env = await startWireEnv({ tls: true });
});
afterAll(async () => {
  await env?.close();
});

const agentToken = () => env.ws.tokens.agent;
const api = (token: string) => env.server.client(token);
const customer = async (id: number) => (await env.db.query<{ plan: string }>('SELECT plan FROM customers WHERE id = $1', [id])).rows[0]?.plan;

/** The newest action of the agent whose statement is `statement`, once it exists. */
async function actionFor(statement: string) {
  const page = await until(
    async () => (await api(agentToken()).list({ limit: 50 })).actions,
    (as) => as.some((a) => (a.input as { statement?: string }).statement === statement),
  );
  return page.find((a) => (a.input as { statement?: string }).statement === statement)!;
}

const logged = (text: string) => env.server.logs.some((l) => l.includes(text));

describe('TLS', () => {
  it('serves psql with sslmode=require', async () => {
    const r = await psql(env, [conninfo(env, 'deploy-bot', 'shop', 'require'), '-At', '-c', 'SELECT plan FROM customers WHERE id = 4'], agentToken());
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('pro\n');
  });

  it('serves node-postgres over TLS, checking the certificate it was given', async () => {
    const ca = readFileSync(`${env.dir}/server.crt`, 'utf8');
    const c = pgClient(env, 'deploy-bot', agentToken(), 'shop', { ssl: { ca, servername: 'localhost' } });
    await c.connect();
    try {
      expect((await c.query('SELECT plan FROM customers WHERE id = $1', [8])).rows).toEqual([{ plan: 'pro' }]);
    } finally {
      await c.end();
    }
  });
});

describe('a client whose statement waits for review', () => {
  it('withdraws the statement on CancelRequest: 57014, the action cancelled, nothing run', async () => {
    const c = pgClient(env, 'deploy-bot', agentToken());
    await c.connect();
    try {
      const statement = "UPDATE customers SET plan = 'cancelled' WHERE id = 6";
      const pending = c.query(statement).then(
        () => undefined,
        (e: pg.DatabaseError) => e,
      );
      const a = await actionFor(statement);
      expect(a.status).toBe('pending');
      // The protocol's CancelRequest, on a new connection, with the key the session was given.
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
      await new Promise<void>((resolve) => {
        const s = connect(env.port, env.host, () => {
          const b = Buffer.alloc(16);
          b.writeInt32BE(16, 0);
          b.writeInt32BE(80877102, 4);
          b.writeInt32BE(processID, 8);
          b.writeInt32BE(secretKey, 12);
          s.end(b);
        });
        s.on('close', () => resolve());
      });
      const e = await pending;
      expect(e?.code).toBe('57014');
      expect((await api(agentToken()).get(a.id)).status).toBe('cancelled');
      // The session goes on.
      expect((await c.query('SELECT plan FROM customers WHERE id = 6')).rows).toEqual([{ plan: 'team' }]);
    } finally {
      await c.end();
    }
  });

  it('a wrong cancel key cancels nothing', async () => {
    const c = pgClient(env, 'deploy-bot', agentToken());
    await c.connect();
    try {
      const statement = "UPDATE customers SET plan = 'kept' WHERE id = 7";
      const pending = c.query(statement).catch((e: unknown) => e);
      const a = await actionFor(statement);
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
      await new Promise<void>((resolve) => {
        const s = connect(env.port, env.host, () => {
          const b = Buffer.alloc(16);
          b.writeInt32BE(16, 0);
          b.writeInt32BE(80877102, 4);
          b.writeInt32BE(processID, 8);
          b.writeInt32BE(secretKey ^ 1, 12);
          s.end(b);
        });
        s.on('close', () => resolve());
      });
      await new Promise((r) => setTimeout(r, 300));
      expect((await api(agentToken()).get(a.id)).status).toBe('pending');
      await api(agentToken()).cancel(a.id);
      await pending;
    } finally {
      await c.end();
    }
  });

  it('killed while waiting: the action is cancelled (onDisconnect: cancel) and the log says so', async () => {
    const statement = "UPDATE customers SET plan = 'killed' WHERE id = 9";
    const child = spawn(psqlPath(env), ['-X', conninfo(env, 'deploy-bot'), '-c', statement], { env: { ...process.env, PGPASSWORD: agentToken() }, stdio: 'ignore' });
    const a = await actionFor(statement);
    expect(a.status).toBe('pending');
    child.kill('SIGKILL');
    const after = await until(() => api(agentToken()).get(a.id), (x) => x.status !== 'pending');
    expect(after.status).toBe('cancelled');
    await until(async () => logged('disconnected while its statement waited for review: the action was cancelled'), (x) => x);
    expect(await customer(9)).toBe('team');
  });

  it('killed while waiting on a database that keeps: the action stays pending, and runs if approved', async () => {
    const statement = "UPDATE customers SET plan = 'kept-and-run' WHERE id = 10";
    const child = spawn(psqlPath(env), ['-X', conninfo(env, 'deploy-bot', 'shop_keep'), '-c', statement], { env: { ...process.env, PGPASSWORD: agentToken() }, stdio: 'ignore' });
    const a = await actionFor(statement);
    child.kill('SIGKILL');
    await until(async () => logged('the action is kept pending'), (x) => x);
    expect((await api(agentToken()).get(a.id)).status).toBe('pending');
    await api(env.ws.tokens.alice).approve(a.id, a.fingerprint);
    await api(env.ws.tokens.bob).approve(a.id, a.fingerprint);
    const done = await until(() => api(agentToken()).get(a.id), (x) => x.status === 'succeeded' || x.status === 'failed');
    expect(done.status).toBe('succeeded');
    expect(await customer(10)).toBe('kept-and-run');
  });
});
