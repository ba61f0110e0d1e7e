import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, until } from '../e2e/harness.js';
import type { WireEnv } from './pgwire-harness.js';
import { conninfo, pgClient, psql, psqlPath, startWireEnv } from './pgwire-harness.js';

let env: WireEnv;
beforeAll(async () => {
  env = await startWireEnv();
});
afterAll(async () => {
  await env?.close();
});

const agentToken = () => env.ws.tokens.agent;
const api = (token: string) => env.server.client(token);

interface Notice {
  message?: string;
}

/** Opens a node-postgres session as the agent, collecting the notices it gets. */
async function agentSession(database = 'shop'): Promise<{ c: pg.Client; notices: Notice[] }> {
  const c = pgClient(env, 'deploy-bot', agentToken(), database);
  const notices: Notice[] = [];
  c.on('notice', (n) => notices.push(n));
  await c.connect();
  return { c, notices };
}

async function errorOf(p: Promise<unknown>): Promise<pg.DatabaseError> {
  try {
    await p;
  } catch (e) {
    return e as pg.DatabaseError;
  }
  throw new Error('expected an error');
}

/** The action id a wire message names ("Countersign action <id>" or "action <id>"). */
function actionIdIn(text: string | undefined): string {
  const m = /action ([0-9A-Za-z_-]{10,})/.exec(text ?? '');
  if (!m) throw new Error(`no action id in: ${text}`);
  return m[1]!;
}

async function heldAction(notices: Notice[]): Promise<string> {
  const n = await until(
    async () => notices.find((x) => x.message?.includes('waits for review')),
    (x) => x !== undefined,
  );
  return actionIdIn(n!.message);
}

const approveFromCli = (id: string, who: 'alice' | 'bob' | 'dave') =>
  runCli(['approve', id, '--yes', '--url', env.server.url], { COUNTERSIGN_TOKEN: env.ws.tokens[who] });

const customer = async (id: number) => (await env.db.query<{ plan: string }>('SELECT plan FROM customers WHERE id = $1', [id])).rows[0]?.plan;

describe('the postgres wire gateway, with psql', () => {
  it('runs an allowed SELECT and returns its rows with the masked column masked', async () => {
    const r = await psql(env, [conninfo(env, 'deploy-bot'), '-At', '-c', 'SELECT id, plan, email FROM customers WHERE id = 4'], agentToken());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('4|pro|[masked]\n');
  });

  it('refuses a denied DROP with SQLSTATE 42501, the reason and the action id; the table is still there', async () => {
    const r = await psql(env, [conninfo(env, 'deploy-bot'), '-c', 'DROP TABLE customers', '-v', 'VERBOSITY=verbose'], agentToken());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('42501');
    expect(r.stderr).toContain('Agents never drop objects');
    const a = await api(agentToken()).get(actionIdIn(r.stderr));
    expect(a.status).toBe('denied');
    expect((await env.db.query('SELECT count(*)::int AS n FROM customers')).rows[0]).toEqual({ n: 12 });
  });

  it('holds an UPDATE until two humans approve from the CLI, then returns its result', async () => {
    const child = spawn(psqlPath(env), ['-X', conninfo(env, 'deploy-bot'), '-c', "UPDATE customers SET plan = 'free' WHERE id = 1"], {
      env: { ...process.env, PGPASSWORD: agentToken() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const id = actionIdIn((await until(async () => err, (e) => e.includes('waits for review'))).toString());
    expect(err).toContain('countersign approve');
    expect(await customer(1)).toBe('team');
    expect((await approveFromCli(id, 'alice')).code).toBe(0);
    // One approval of the two required: still waiting, still unchanged.
    expect((await api(agentToken()).get(id)).status).toBe('pending');
    expect(await customer(1)).toBe('team');
    expect((await approveFromCli(id, 'bob')).code).toBe(0);
    expect(await exited).toBe(0);
    expect(out).toContain('UPDATE 1');
    expect(await customer(1)).toBe('free');
    const a = await api(agentToken()).get(id);
    expect(a.status).toBe('succeeded');
  });
});

describe('the postgres wire gateway, with node-postgres', () => {
  it('binds params in the extended protocol: they reach policy and the action', async () => {
    const { c, notices } = await agentSession();
    try {
      const rows = await c.query('SELECT id, plan FROM customers WHERE id = $1', [8]);
      expect(rows.rows).toEqual([{ id: 8, plan: 'pro' }]);
      const pending = c.query('UPDATE customers SET plan = $1 WHERE id = $2', ['gold', 2]);
      const id = await heldAction(notices);
      const a = await api(agentToken()).get(id);
      expect(a.input).toEqual({ statement: 'UPDATE customers SET plan = $1 WHERE id = $2', params: ['gold', '2'] });
      await api(env.ws.tokens.alice).approve(id, a.fingerprint);
      await api(env.ws.tokens.bob).approve(id, a.fingerprint);
      expect((await pending).rowCount).toBe(1);
      expect(await customer(2)).toBe('gold');
    } finally {
      await c.end();
    }
  });

  it('binds an approved UPDATE to its preview: when the rows changed meanwhile, nothing is committed (drift)', async () => {
    const { c, notices } = await agentSession();
    try {
      const pending = errorOf(c.query("UPDATE customers SET name = 'drifted' WHERE churned"));
      const id = await heldAction(notices);
      const a = await api(agentToken()).get(id);
      expect(a.preview?.status).toBe('ok');
      // Another session churns one more customer after the reviewers saw the preview.
      await env.db.query('UPDATE customers SET churned = true WHERE id = 11');
      await api(env.ws.tokens.alice).approve(id, a.fingerprint);
      await api(env.ws.tokens.bob).approve(id, a.fingerprint);
      const e = await pending;
      expect(e.code).toBe('42501');
      expect(e.message).toContain('drift');
      expect((await env.db.query("SELECT count(*)::int AS n FROM customers WHERE name = 'drifted'")).rows[0]).toEqual({ n: 0 });
      expect((await api(agentToken()).get(id)).status).toBe('failed');
      // The session is still usable, outside any transaction.
      expect((await c.query('SELECT plan FROM customers WHERE id = 4')).rows).toEqual([{ plan: 'pro' }]);
    } finally {
      await c.end();
      await env.db.query('UPDATE customers SET churned = false WHERE id = 11');
    }
  });

  it('keeps a denied session usable: the next statement runs', async () => {
    const { c } = await agentSession();
    try {
      const e = await errorOf(c.query('DROP TABLE users'));
      expect(e.code).toBe('42501');
      expect(e.message).toContain('Agents never drop objects');
      expect(e.detail).toMatch(/Countersign action /);
      const r = await c.query('SELECT plan FROM customers WHERE id = 4');
      expect(r.rows).toEqual([{ plan: 'pro' }]);
    } finally {
      await c.end();
    }
  });

  it('answers a Bind PostgreSQL refuses with PostgreSQL\'s own error, once; the statement is recorded as not run; the session goes on', async () => {
    const { c } = await agentSession();
    try {
      // The Bind goes upstream with its decided Execute: PostgreSQL refuses the param, skips the Execute.
      const e = await errorOf(c.query('SELECT plan FROM customers WHERE id = $1', ['not-a-number']));
      expect(e.code).toBe('22P02');
      const page = await until(
        async () => (await api(agentToken()).list({ limit: 50 })).actions,
        (as) => as.some((a) => (a.input as { params?: string[] }).params?.[0] === 'not-a-number' && a.status === 'failed'),
      );
      const a = await api(agentToken()).get(page.find((x) => (x.input as { params?: string[] }).params?.[0] === 'not-a-number')!.id);
      expect(a.status).toBe('failed');
      expect(a.result?.error?.code).toBe('ABORTED');
      expect((await c.query('SELECT plan FROM customers WHERE id = $1', [4])).rows).toEqual([{ plan: 'pro' }]);
    } finally {
      await c.end();
    }
  });

  it('does not hold for review a statement whose Bind PostgreSQL refuses: its error, the action cancelled, nothing run', async () => {
    const { c, notices } = await agentSession();
    try {
      const e = await errorOf(c.query('UPDATE customers SET plan = $1 WHERE id = $2', ['bronze', 'not-a-number']));
      expect(e.code).toBe('22P02');
      expect(notices.some((n) => n.message?.includes('waits for review'))).toBe(false);
      const page = await until(
        async () => (await api(agentToken()).list({ limit: 50 })).actions,
        (as) => as.some((a) => (a.input as { params?: string[] }).params?.[0] === 'bronze' && a.status === 'cancelled'),
      );
      expect(page.filter((a) => (a.input as { params?: string[] }).params?.[0] === 'bronze').map((a) => a.status)).toEqual(['cancelled']);
      expect((await env.db.query("SELECT count(*)::int AS n FROM customers WHERE plan = 'bronze'")).rows[0]).toEqual({ n: 0 });
      expect((await c.query('SELECT plan FROM customers WHERE id = $1', [4])).rows).toEqual([{ plan: 'pro' }]);
    } finally {
      await c.end();
    }
  });

  it('holds a transaction while a statement in it waits for review, and commits it once approved', async () => {
    const { c, notices } = await agentSession('shop');
    try {
      await c.query('BEGIN');
      await c.query('SELECT plan FROM customers WHERE id = 3');
      const pending = c.query("UPDATE customers SET plan = 'held' WHERE id = 3");
      const id = await heldAction(notices);
      const a = await api(agentToken()).get(id);
      expect(a.context).toMatchObject({ via: 'pgwire', inTransaction: true, database: 'shop' });
      await api(env.ws.tokens.alice).approve(id, a.fingerprint);
      await api(env.ws.tokens.dave).approve(id, a.fingerprint);
      expect((await pending).rowCount).toBe(1);
      // Not committed yet: another session still sees the old value.
      expect(await customer(3)).toBe('team');
      await c.query('COMMIT');
      expect(await customer(3)).toBe('held');
    } finally {
      await c.end();
    }
  });

  it('refuses a statement needing review inside a transaction when the database says refuse (25001), and the transaction is aborted', async () => {
    const { c } = await agentSession('shop_strict');
    try {
      await c.query('BEGIN');
      const e = await errorOf(c.query("UPDATE customers SET plan = 'nope' WHERE id = 5"));
      expect(e.code).toBe('25001');
      expect(e.hint).toContain('outside');
      const id = actionIdIn(e.message);
      expect((await api(agentToken()).get(id)).status).toBe('cancelled');
      expect((await errorOf(c.query('SELECT 1'))).code).toBe('25P02');
      await c.query('ROLLBACK');
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(await customer(5)).toBe('team');
    } finally {
      await c.end();
    }
  });

  it('aborts the transaction on a denial, as PostgreSQL does on an error', async () => {
    const { c } = await agentSession();
    try {
      await c.query('BEGIN');
      expect((await errorOf(c.query('DROP TABLE customers'))).code).toBe('42501');
      expect((await errorOf(c.query('SELECT 1'))).code).toBe('25P02');
      const r = await c.query('COMMIT');
      expect(r.command).toBe('ROLLBACK');
    } finally {
      await c.end();
    }
  });

  it('decides SET ROLE by policy (denied) and tracks SET search_path, so that facts name billing.users', async () => {
    const { c } = await agentSession();
    try {
      expect((await errorOf(c.query('SET ROLE postgres'))).code).toBe('42501');
      // users alone is public.users, which the read rule leaves out: denied by default.
      expect((await errorOf(c.query('SELECT name FROM users'))).code).toBe('42501');
      await c.query('SET search_path TO billing');
      // Now users is billing.users: the facts say so, and the read rule allows it.
      const r = await c.query('SELECT name FROM users');
      expect(r.rows).toEqual([{ name: 'billing user' }]);
      const isIt = (x: { input: unknown; status: string }) => (x.input as { statement?: string }).statement === 'SELECT name FROM users' && x.status === 'succeeded';
      // The execution's record commits while the client already has its rows.
      const mine = await until(async () => (await api(agentToken()).list({ limit: 20 })).actions, (as) => as.some(isIt));
      const a = mine.find(isIt);
      expect(a?.facts?.sql?.tables).toEqual(['billing.users']);
      expect(a?.context).toMatchObject({ searchPath: ['billing'] });
      const ok = await c.query('SELECT name FROM billing.users');
      expect(ok.rows).toEqual([{ name: 'billing user' }]);
    } finally {
      await c.end();
    }
  });

  it('gives 28P01 for a wrong password and for an unknown user alike, 3D000 for an unknown database, and records the attempts', async () => {
    const wrong = await errorOf(pgClient(env, 'deploy-bot', 'not-the-token').connect());
    expect(wrong.code).toBe('28P01');
    const unknown = await errorOf(pgClient(env, 'nobody', 'x').connect());
    expect(unknown.code).toBe('28P01');
    expect(unknown.message).toBe('password authentication failed for user "nobody"');
    // Another identity's token does not log in as this one.
    const other = await errorOf(pgClient(env, 'deploy-bot', env.ws.tokens.other).connect());
    expect(other.code).toBe('28P01');
    const db = await errorOf(pgClient(env, 'deploy-bot', agentToken(), 'nope').connect());
    expect(db.code).toBe('3D000');
    const store = new Database(join(env.ws.dir, 'countersign.db'), { readonly: true });
    try {
      const rows = store.prepare("SELECT bytes FROM audit_entries WHERE type = 'pgwire.login'").all() as Array<{ bytes: Buffer }>;
      const outcomes = rows.map((r) => (JSON.parse(r.bytes.toString('utf8')) as { data: { user: string; outcome: string } }).data);
      expect(outcomes).toEqual(expect.arrayContaining([
        expect.objectContaining({ user: 'deploy-bot', outcome: 'failed' }),
        expect.objectContaining({ user: 'nobody', outcome: 'failed' }),
        expect.objectContaining({ user: 'deploy-bot', outcome: 'unknown-database' }),
      ]));
    } finally {
      store.close();
    }
  });
});

describe('the audit log after wire sessions', () => {
  it('verifies: log-ins and every statement as an action, with no error', async () => {
    const r = await runCli(['audit', 'verify', '--config', env.ws.configPath, '--json', '--no-progress'], env.ws.env);
    const report = JSON.parse(r.stdout) as { findings?: Array<{ kind: string; check: string }> };
    expect(r.stderr).toBe('');
    // Entries not yet under a signed checkpoint are a warning of timing, not a finding about them.
    expect((report.findings ?? []).filter((f) => f.kind !== 'warning')).toEqual([]);
    expect(r.code).toBe(0);
  });
});
