import { afterAll, beforeAll, expect, it } from 'vitest';
import type { WireEnv } from './pgwire-harness.js';
import { conninfo, pgClient, psql, startWireEnv } from './pgwire-harness.js';

let env: WireEnv;
beforeAll(async () => {
  env = await startWireEnv();
});
afterAll(async () => {
  await env?.close();
});

it('smoke', async () => {
  const r = await psql(env, [conninfo(env, 'deploy-bot'), '-At', '-c', 'SELECT id, plan, email FROM customers WHERE id = 4'], env.ws.tokens.agent);
  console.log(r);
  const c = pgClient(env, 'deploy-bot', env.ws.tokens.agent);
  await c.connect();
  const q = await c.query('SELECT id, plan FROM customers WHERE id = $1', [4]);
  console.log(q.rows);
  await c.end();
  expect(r.code).toBe(0);
});
