import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/client/errors.js';
import { sqlPreviewOf } from '../../src/domain/action-record.js';
import type { Action } from '../../src/client/types.js';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import type { ServerProcess, Workspace } from './harness.js';
import { raw, runCli, startServer, startTarget, until, workspace } from './harness.js';

// The sql kind end to end: a real gateway process, a real PostgreSQL (the run's private
// cluster), the example rules as written.
const POLICY = `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: db-reads
    match: { kind: sql, target: "*-db" }
    when: sql.readOnly && !("public.users" in sql.tables)
    outcome: allow
  - id: db-privileges
    match: { kind: sql }
    when: sql.privilege || sql.unbounded
    outcome: review
    review: { approvers: [group:release], quorum: 2, timeout: 1h }
  - id: db-writes
    match: { kind: sql }
    when: '!sql.readOnly && !sql.ddl && !sql.privilege && !sql.unbounded'
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h }
  - id: no-drops
    match: { kind: sql }
    when: sql.types.exists(t, t.startsWith("drop_"))
    outcome: deny
    reason: Agents never drop objects
`;

const SCHEMA = `
  CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, plan text NOT NULL, churned boolean NOT NULL);
  INSERT INTO customers SELECT i, 'customer ' || i, 'c' || i || '@example.com', CASE WHEN i % 4 = 0 THEN 'pro' ELSE 'team' END, i % 5 = 0
    FROM generate_series(1, 12) i;
  CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
`;

let db: TestDatabase;
let ws: Workspace;
let server: ServerProcess;
let target: Awaited<ReturnType<typeof startTarget>>;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query(SCHEMA);
  target = await startTarget();
  ws = workspace(target.url, { policy: POLICY });
  // The database URL is a secret from the environment, like a token.
  ws.env.T_SHOP_DB = db.url;
  const text = readFileSync(ws.configPath, 'utf8').replace(
    'targets:\n',
    'targets:\n  shop-db: { kind: postgres, url: "${T_SHOP_DB}", mask: ["customers.email"], preview: { sampleRows: 5 } }\n',
  );
  writeFileSync(ws.configPath, text);
  server = await startServer(ws);
});

afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
  await db?.drop();
});

const agent = () => server.client(ws.tokens.agent);
const sql = (statement: string, params?: Array<string | number | boolean | null>) => ({
  kind: 'sql' as const,
  target: 'shop-db',
  input: params ? { statement, params } : { statement },
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CountersignError) return e.code;
    throw e;
  }
  throw new Error('expected a refusal');
}

const churnedOnTeam = async () => (await db.query<{ id: number; plan: string }>("SELECT id, plan FROM customers WHERE churned ORDER BY id")).rows;

describe('sql actions through the gateway, on PostgreSQL', () => {
  it('runs an allowed read at once, with the masked column masked and no secret in the answer', async () => {
    const a = await agent().submit(sql('SELECT id, email, plan FROM customers WHERE id = $1', [4]));
    expect(a.decision).toMatchObject({ outcome: 'allow', rules: ['db-reads'] });
    const done = await agent().wait(a.id, { timeoutSeconds: 10 });
    expect(done.status).toBe('succeeded');
    const text = JSON.stringify(done.result);
    expect(text).toContain('pro');
    expect(text).not.toContain('c4@example.com');
    const all = JSON.stringify(done);
    expect(all).not.toContain(db.cluster.password);
    expect(all).not.toContain(db.url);
  });

  it('never runs a denied DROP: the table is still there', async () => {
    const a = await agent().submit(sql('DROP TABLE customers'));
    expect(a.status).toBe('denied');
    expect(a.decision).toMatchObject({ outcome: 'deny', rules: ['no-drops'] });
    expect(a.decision.reason).toContain('Agents never drop objects');
    const after = await until(() => agent().get(a.id), (x) => (x.auditSeqs?.length ?? 0) > 0);
    expect(after.status).toBe('denied');
    expect((await db.query('SELECT count(*)::int AS n FROM customers')).rows[0]).toEqual({ n: 12 });
  });

  it('holds an UPDATE with its dry run, refuses the parties, and runs exactly what a distinct human approved', async () => {
    const before = await churnedOnTeam();
    expect(before.length).toBe(2);
    const a = await agent().submit(sql("UPDATE customers SET plan = 'free' WHERE churned AND plan <> $1", ['free']));
    expect(a.status).toBe('pending');
    expect(a.decision.rules).toEqual(['db-writes']);
    // The preview was computed before anyone was asked, and changed nothing.
    expect(a.preview).toMatchObject({ status: 'ok', mode: 'rollback', summary: { rows: [2] } });
    // The agent sees the figures, never the rows: a write sent to review must not be a way to read.
    expect(sqlPreviewOf(a)!.statements[0]).toMatchObject({ type: 'update', rows: 2, samplesHidden: true });
    expect(sqlPreviewOf(a)!.statements[0]!.before).toBeUndefined();
    expect(JSON.stringify(await agent().get(a.id))).not.toContain('customer 5');
    // A reviewer sees the sample rows, masked columns masked.
    const reviewed = await server.client(ws.tokens.alice).get(a.id);
    expect(JSON.stringify(sqlPreviewOf(reviewed)!.statements[0]!.after)).toContain('free');
    expect(JSON.stringify(sqlPreviewOf(reviewed)!.statements[0]!.before)).toContain('customer 5');
    expect(JSON.stringify(reviewed.preview)).not.toContain('@example.com');
    // The agent's owner is a party to the action too: figures only.
    expect(sqlPreviewOf(await server.client(ws.tokens.carol).get(a.id))!.statements[0]!.before).toBeUndefined();
    expect(await churnedOnTeam()).toEqual(before);

    // The CLI shows the reviewer what it will do.
    const shown = await runCli(['show', a.id], { COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: ws.tokens.alice });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/UPDATE customers SET plan = 'free'/);
    expect(shown.stdout).toMatch(/2 rows/);

    expect(await refusal(agent().approve(a.id, a.fingerprint))).toBe('AGENT_CANNOT_REVIEW');
    expect(await refusal(server.client(ws.tokens.carol).approve(a.id, a.fingerprint))).toBe('SELF_APPROVAL');
    await server.client(ws.tokens.alice).approve(a.id, a.fingerprint, 'churned accounts go free');
    const done: Action = await agent().wait(a.id, { timeoutSeconds: 15 });
    expect(done.status).toBe('succeeded');
    expect(JSON.stringify(done.result)).toMatch(/"rowCount":2/);
    expect((await churnedOnTeam()).map((r) => r.plan)).toEqual(['free', 'free']);
  });

  it('refuses to run when the effect drifted from what the reviewer saw, and changes nothing', async () => {
    const a = await agent().submit(sql("UPDATE customers SET plan = 'pro' WHERE plan = 'team' AND id > $1", [8]));
    expect(a.status).toBe('pending');
    const approvedRows = sqlPreviewOf(a)!.summary.rows[0]!;
    expect(approvedRows).toBeGreaterThan(0);
    // Between the review and the run, someone adds a matching row.
    await db.query("INSERT INTO customers VALUES (99, 'late', 'late@example.com', 'team', false)");
    const teamBefore = (await db.query("SELECT count(*)::int AS n FROM customers WHERE plan = 'team'")).rows[0];
    await server.client(ws.tokens.alice).approve(a.id, a.fingerprint);
    const done = await agent().wait(a.id, { timeoutSeconds: 15 });
    expect(done.status).toBe('failed');
    expect(done.result?.reason).toBe('drift');
    const text = JSON.stringify(done.result);
    expect(text).toContain(String(approvedRows));
    expect(text).toContain(String(approvedRows + 1));
    expect((await db.query("SELECT count(*)::int AS n FROM customers WHERE plan = 'team'")).rows[0]).toEqual(teamBefore);
  });

  it('an unbounded DELETE needs two distinct approvers', async () => {
    const a = await agent().submit(sql('DELETE FROM customers'));
    expect(a.status).toBe('pending');
    expect(a.review?.requirements).toMatchObject([{ ruleId: 'db-privileges', quorum: 2 }]);
    expect(sqlPreviewOf(a)?.summary.rows).toEqual([13]);
    await server.client(ws.tokens.bob).deny(a.id, 'too broad');
    const done = await agent().wait(a.id, { timeoutSeconds: 10 });
    expect(done.status).toBe('denied');
    expect((await db.query('SELECT count(*)::int AS n FROM customers')).rows[0]).toEqual({ n: 13 });
  });

  it('a statement PostgreSQL cannot parse is refused with its position, and nothing is stored', async () => {
    const listed = async () => (await raw(server.url, '/v1/actions?limit=100', { token: ws.tokens.agent })).body;
    const before = JSON.stringify(await listed());
    const r = await raw(server.url, '/v1/actions', {
      method: 'POST',
      token: ws.tokens.agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sql('UPDATE customers SET WHERE id = 1')),
    });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ code: 'SQL_PARSE_ERROR', details: { position: expect.any(Number) as number } });
    expect(r.body.error?.message).toMatch(/syntax error at or near "WHERE"/);
    expect(JSON.stringify(await listed())).toBe(before);
  });

  it('the audit log holds the statement and the preview summary, with params over a masked table masked', async () => {
    const a = await agent().submit(sql('SELECT id, plan FROM customers WHERE email = $1', ['c8@example.com']));
    await agent().wait(a.id, { timeoutSeconds: 10 });
    const store = new Database(join(ws.dir, 'countersign.db'), { readonly: true });
    try {
      const entries = (store.prepare('SELECT bytes FROM audit_entries ORDER BY seq').all() as Array<{ bytes: Buffer }>).map((r) => r.bytes.toString('utf8'));
      const mine = entries.filter((e) => e.includes(a.id));
      expect(mine.some((e) => e.includes('"params":["[MASKED]"]'))).toBe(true);
      expect(mine.some((e) => e.includes('WHERE email = $1'))).toBe(true);
      const all = entries.join('\n');
      expect(all).not.toContain('c8@example.com');
      expect(all).not.toContain('c4@example.com');
      expect(all).not.toContain(db.cluster.password);
      // The held UPDATE's preview summary was recorded with its decision.
      // The held UPDATE's preview summary was recorded with its decision, its row counts with its execution.
      expect(entries.some((e) => e.includes('"type":"action.decided"') && /"preview":\{"mode":"rollback","status":"ok","summary":\{"changes":\{"public\.customers":\{"deleted":0,"inserted":0,"updated":2\}\},"rows":\[2\]\}/.test(e))).toBe(true);
      expect(entries.some((e) => e.includes('"type":"execution.finished"') && e.includes('"rows":[2]'))).toBe(true);
      expect(entries.some((e) => e.includes('"type":"execution.finished"') && e.includes('"reason":"drift"') && e.includes('"drift"'))).toBe(true);
      expect(all).not.toContain('"free"]');
    } finally {
      store.close();
    }
  });

  it('keeps the database URL out of the server log', () => {
    const log = server.logs.join('\n');
    expect(log).not.toContain(db.cluster.password);
    expect(log).not.toContain(db.url);
  });
});
