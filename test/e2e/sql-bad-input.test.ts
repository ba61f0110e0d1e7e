import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { raw, startServer, startTarget, workspace } from './harness.js';
import type { ServerProcess, Workspace } from './harness.js';

/**
 * Bad sql input through the real server: each gets a clear 4xx naming what is wrong,
 * and nothing runs (the database, a listener standing in for PostgreSQL, is never
 * connected to) and nothing is stored (no action, no audit entry).
 */

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess;
let database: Server;
let connections = 0;

beforeAll(async () => {
  database = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', resolve));
  const port = (database.address() as { port: number }).port;
  target = await startTarget();
  ws = workspace(target.url);
  const config = readFileSync(ws.configPath, 'utf8').replace(
    'targets:\n',
    `targets:\n  billing-db: { kind: postgres, url: "postgres://app:\${T_DB_PASSWORD}@127.0.0.1:${port}/billing" }\n`,
  );
  writeFileSync(ws.configPath, config);
  ws.env.T_DB_PASSWORD = 'db-password-0123456789';
  server = await startServer(ws);
});

afterAll(async () => {
  await server?.stop();
  await target?.close();
  await new Promise((r) => database?.close(r));
  ws?.cleanup();
});

async function stored(): Promise<{ audit: number; actions: number }> {
  const store = createSqliteStore({ path: join(ws.dir, 'countersign.db'), readOnly: true });
  try {
    return { audit: await store.auditSize(), actions: (await store.listActions({ limit: 500 })).length };
  } finally {
    await store.close();
  }
}

const submit = (body: string) => raw(server.url, '/v1/actions', { method: 'POST', headers: { 'content-type': 'application/json' }, body, token: ws.tokens.agent });
const sql = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) => submit(JSON.stringify({ kind: 'sql', target: 'billing-db', input, ...extra }));

describe('bad sql input gets a clear 4xx, runs nothing and stores nothing', () => {
  const cases: Array<[string, () => ReturnType<typeof raw>, number, string, RegExp?]> = [
    ['unparsable SQL', () => sql({ statement: 'SELECT 1;\nUPDAT users SET a = 1' }), 422, 'SQL_PARSE_ERROR', /syntax error at or near "UPDAT" \(line 2, column 1\)/],
    ['an empty statement', () => sql({ statement: '' }), 400, 'SQL_EMPTY'],
    ['a statement of only comments', () => sql({ statement: '-- nothing here\n/* or here */;' }), 400, 'SQL_EMPTY'],
    ['more params than placeholders', () => sql({ statement: 'SELECT $1', params: [1, 2] }), 422, 'SQL_PARAMS_MISMATCH', /up to \$1 but 2 param/],
    ['fewer params than placeholders', () => sql({ statement: 'UPDATE t SET a = $1 WHERE id = $2', params: ['x'] }), 422, 'SQL_PARAMS_MISMATCH', /up to \$2 but 1 param/],
    ['a 1 MB statement', () => sql({ statement: `SELECT '${'x'.repeat(1_000_000)}'` }), 413, 'SQL_TOO_LARGE', /over the limit of 262144 bytes/],
    ['10,000 statements in one input', () => sql({ statement: 'SELECT 1;'.repeat(10_000) }), 422, 'SQL_TOO_MANY_STATEMENTS', /10000 statements is over the limit of 1000/],
    ['a NUL byte in the statement', () => sql({ statement: 'SELECT 1\u0000; DROP TABLE users' }), 400, 'SQL_INVALID_TEXT'],
    ['a NUL byte in a param', () => sql({ statement: 'SELECT $1', params: ['a\u0000b'] }), 400, 'SQL_INVALID_TEXT', /input\.params\[0\]/],
    ['a lone surrogate in the statement', () => submit('{"kind":"sql","target":"billing-db","input":{"statement":"SELECT \'\\ud800\'"}}'), 400, 'VALIDATION_FAILED', /lone UTF-16 surrogate/],
    [
      'invalid UTF-8 in the body',
      () => submit(Buffer.concat([Buffer.from('{"kind":"sql","target":"billing-db","input":{"statement":"SELECT \''), Buffer.from([0xff, 0xfe]), Buffer.from('\'"}}')]) as unknown as string),
      400,
      'VALIDATION_FAILED',
      /not valid UTF-8/,
    ],
    ['a target that is not postgres', () => submit(JSON.stringify({ kind: 'sql', target: 'github', input: { statement: 'SELECT 1' } })), 400, 'KIND_MISMATCH', /actions of kind sql run on postgres targets/],
    ['an http action on the postgres target', () => submit(JSON.stringify({ kind: 'http', target: 'billing-db', input: { method: 'GET', path: '/' } })), 400, 'KIND_MISMATCH'],
    ['a param that is an object', () => sql({ statement: 'SELECT $1', params: [{ a: 1 }] }), 400, 'VALIDATION_FAILED', /input\.params\[0\]/],
    ['an unknown input key', () => sql({ statement: 'SELECT 1', database: 'postgres' }), 400, 'VALIDATION_FAILED', /input\.database: unknown key/],
    ['no statement', () => sql({ params: [] }), 400, 'VALIDATION_FAILED', /input\.statement/],
  ];

  it.each(cases)('%s', async (_name, send, status, code, message) => {
    const before = await stored();
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.body.error?.code).toBe(code);
    if (message) expect(r.body.error?.message).toMatch(message);
    expect(JSON.stringify(r.body)).not.toMatch(/\bat .*\.js:\d+/);
    expect(JSON.stringify(r.body)).not.toContain('db-password-0123456789');
    expect(await stored()).toEqual(before);
    expect(connections).toBe(0);
  });

  it('the parse error carries the parser message and its position', async () => {
    const r = await sql({ statement: "SELECT 'é' ,, 1" });
    expect(r.body.error?.details).toEqual({ parser: 'syntax error at or near ","', position: 13, line: 1, column: 13 });
  });

  it('a valid statement is accepted (the check refuses only what is wrong)', async () => {
    const r = await sql({ statement: 'SELECT id FROM invoices WHERE id = $1 LIMIT 1', params: [1] }, { mode: 'decide' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ kind: 'sql', facts: { sql: { types: ['select'], readOnly: true, tables: ['public.invoices'] } } });
    expect(JSON.stringify(r.body)).not.toContain('db-password-0123456789');
  });

  it('the database URL and its password appear in no log line and no audit entry', async () => {
    const store = createSqliteStore({ path: join(ws.dir, 'countersign.db'), readOnly: true });
    try {
      const entries = await store.readAudit(0, await store.auditSize());
      expect(JSON.stringify(entries)).not.toContain('db-password-0123456789');
    } finally {
      await store.close();
    }
    expect(server.logs.join('\n')).not.toContain('db-password-0123456789');
  });
});
