import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../e2e/harness.js';
import type { WireEnv } from './pgwire-harness.js';
import { pgClient, startWireEnv } from './pgwire-harness.js';

// An approved statement on the wire is bound to its preview as an HTTP `sql` action is:
// not only each statement's row count, but the rows changed per table (cascades...)
// and the schema changes (the rollback preview's hash).

let env: WireEnv;
beforeAll(async () => {
  env = await startWireEnv({
    policy: `
default: { outcome: review, review: { approvers: [group:release], quorum: 1, timeout: 1h } }
rules:
  - id: reads
    match: { kind: sql }
    when: sql.readOnly
    outcome: allow
`,
  });
  await env.db.query(`
    CREATE TABLE orders (id serial PRIMARY KEY, customer int NOT NULL REFERENCES customers ON DELETE CASCADE);
    INSERT INTO orders (customer) VALUES (3), (3), (5);
  `);
});
afterAll(async () => {
  await env?.close();
});

const agentToken = () => env.ws.tokens.agent;
const api = (token = agentToken()) => env.server.client(token);

async function pendingAction(statement: string) {
  const page = await until(
    async () => (await api().list({ limit: 50 })).actions,
    (as) => as.some((a) => (a.input as { statement?: string }).statement === statement && a.status === 'pending' && a.preview !== undefined),
  );
  return page.find((a) => (a.input as { statement?: string }).statement === statement && a.status === 'pending')!;
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: pg.DatabaseError) => e,
  );

describe('drift on the wire', () => {
  it('compares the rows changed per table: a cascade that now deletes more refuses the approved DELETE (extended protocol)', async () => {
    const c = pgClient(env, 'deploy-bot', agentToken());
    await c.connect();
    try {
      const statement = 'DELETE FROM customers WHERE id = $1';
      const pending = errorOf(c.query(statement, [3]));
      const a = await pendingAction(statement);
      expect(a.preview?.status).toBe('ok');
      // The same single customer the reviewers saw is deleted, but its cascade now reaches one more order.
      await env.db.query('INSERT INTO orders (customer) VALUES (3)');
      await api(env.ws.tokens.alice).approve(a.id, a.fingerprint);
      const e = await pending;
      expect(e?.code).toBe('42501');
      expect(e?.message).toMatch(/drift: public\.orders was approved with 2 row\(s\) deleted and would have 3/);
      expect((await env.db.query('SELECT count(*)::int AS n FROM orders WHERE customer = 3')).rows[0]).toEqual({ n: 3 });
      expect((await env.db.query('SELECT count(*)::int AS n FROM customers WHERE id = 3')).rows[0]).toEqual({ n: 1 });
      const done = await api().get(a.id);
      expect(done.status).toBe('failed');
      expect(done.result?.error?.code).toBe('DRIFT');
      // The session goes on.
      expect((await c.query('SELECT plan FROM customers WHERE id = $1', [4])).rows).toEqual([{ plan: 'pro' }]);
    } finally {
      await c.end();
    }
  });

  it('runs an approved DELETE whose per-table changes match the preview', async () => {
    const c = pgClient(env, 'deploy-bot', agentToken());
    await c.connect();
    try {
      const statement = 'DELETE FROM customers WHERE id = 5';
      const pending = c.query(statement);
      const a = await pendingAction(statement);
      expect((a.preview as { summary?: unknown } | undefined)?.summary).toMatchObject({ changes: { 'public.customers': { deleted: 1 }, 'public.orders': { deleted: 1 } } });
      await api(env.ws.tokens.alice).approve(a.id, a.fingerprint);
      expect((await pending).rowCount).toBe(1);
      expect((await env.db.query('SELECT count(*)::int AS n FROM orders WHERE customer = 5')).rows[0]).toEqual({ n: 0 });
    } finally {
      await c.end();
    }
  });

  it('compares the schema changes: DDL that would now change nothing is refused (simple protocol)', async () => {
    const c = pgClient(env, 'deploy-bot', agentToken());
    await c.connect();
    try {
      const statement = 'CREATE TABLE IF NOT EXISTS invoices (id int PRIMARY KEY, total numeric NOT NULL)';
      const pending = errorOf(c.query(statement));
      const a = await pendingAction(statement);
      expect(a.preview?.status).toBe('ok');
      // Someone else creates it (another shape) after the reviewers saw the preview.
      await env.db.query('CREATE TABLE invoices (id int PRIMARY KEY)');
      await api(env.ws.tokens.alice).approve(a.id, a.fingerprint);
      const e = await pending;
      expect(e?.code).toBe('42501');
      expect(e?.message).toMatch(/drift: the schema and privilege changes differ/);
      const done = await api().get(a.id);
      expect(done.result?.error?.code).toBe('DRIFT');
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
  });
});
