import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess, Workspace } from './harness.js';
import { startServer, startTarget, workspace } from './harness.js';

// A hostile target: it reflects the credential the gateway injects, in every form a
// naive exact match misses (issue 12, section 4), and a `__proto__` key (section 5).
function forms(cred: string): Record<string, string> {
  return {
    base64: Buffer.from(cred).toString('base64'),
    basic: Buffer.from(`svc-user:${cred}`).toString('base64'),
    base64url: Buffer.from(`?${cred}`).toString('base64url'),
    hex: Buffer.from(cred).toString('hex'),
    hexUpper: Buffer.from(cred).toString('hex').toUpperCase(),
    upper: cred.toUpperCase(),
    urlEncoded: [...Buffer.from(cred)].map((b) => `%${b.toString(16)}`).join(''),
    cut: cred.slice(0, -1),
  };
}

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess;

beforeAll(async () => {
  target = await startTarget((r, res) => {
    const cred = String(r.headers.authorization).replace(/^Bearer /, '');
    if (r.url.startsWith('/api/echo/json')) {
      const body = `{"__proto__":{"echo":"${cred}"},"forms":${JSON.stringify(forms(cred))}}`;
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': Buffer.from(cred).toString('hex') }).end(body);
      return true;
    }
    if (r.url.startsWith('/api/echo/text')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(Object.values(forms(cred)).join('\n'));
      return true;
    }
    if (r.url.startsWith('/api/echo/binary')) {
      const utf16 = Buffer.from(cred, 'utf16le');
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.concat([Buffer.from([0xff, 0xfe, 0x80]), utf16, Buffer.from(utf16).swap16(), Buffer.from([0xc0])]));
      return true;
    }
    return false;
  });
  ws = workspace(target.url);
  server = await startServer(ws);
});

afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
});

describe('a credential the target echoes back in another form', () => {
  const results: unknown[] = [];

  it('is redacted from the API result in every form, JSON, text and binary, and a __proto__ key is kept', async () => {
    const agent = server.client(ws.tokens.agent);
    const cred = ws.tokens.target;
    for (const path of ['/echo/json', '/echo/text', '/echo/binary']) {
      const a = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path } });
      const done = await agent.wait(a.id, { timeoutSeconds: 10 });
      expect(done.status).toBe('succeeded');
      results.push(done);
      const text = JSON.stringify(done);
      for (const [name, form] of Object.entries(forms(cred))) expect(text, `${path}: ${name}`).not.toContain(form);
    }
    expect(JSON.stringify(results.slice(0, 2)).match(/\[REDACTED\]/g)?.length).toBeGreaterThanOrEqual(2 * Object.keys(forms(cred)).length);
    const json = results[0] as { result: { body: Record<string, unknown>; headers: Record<string, string> } };
    expect(Object.keys(json.result.body)).toEqual(['__proto__', 'forms']);
    expect(JSON.stringify(json.result.body).startsWith('{"__proto__":{"echo":"[REDACTED]"}')).toBe(true);
    expect(json.result.headers['x-request-id']).toBe('[REDACTED]');
    const bin = Buffer.from((results[2] as { result: { body: string } }).result.body, 'base64');
    expect(bin.includes(Buffer.from(cred.slice(0, 8), 'utf16le'))).toBe(false);
    expect(bin.includes(Buffer.from(Buffer.from(cred.slice(0, 8), 'utf16le')).swap16())).toBe(false);
    expect(bin.toString('latin1')).toBe('\xff\xfe\x80[REDACTED]\xc0');
  });

  it('is in neither the stored records, the audit log nor the logs', async () => {
    expect(results).toHaveLength(3);
    expect(await server.stop()).toBe(0);
    const db = new Database(join(ws.dir, 'countersign.db'), { readonly: true });
    try {
      const records = (db.prepare('SELECT record FROM actions').all() as Array<{ record: string }>).map((r) => r.record);
      const json = records.find((r) => r.includes('"__proto__"'));
      expect(json, 'the stored record keeps the __proto__ key').toBeDefined();
      const audit = (db.prepare('SELECT * FROM audit_entries').all() as Array<Record<string, unknown>>).map((r) => JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : v)));
      const everything = [...records, ...audit, ...server.logs].join('\n');
      for (const [name, form] of Object.entries(forms(ws.tokens.target))) expect(everything, name).not.toContain(form);
    } finally {
      db.close();
    }
  });
});
