import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { raw, useServer } from './harness.js';

/** A deny on a body field, then an allow for the same route: the shape of the issue 12 §3 report. */
const POLICY = `
default: { outcome: deny }
rules:
  - id: no-admin
    match: { kind: http }
    when: has(http.body.role) && http.body.role == "admin"
    outcome: deny
    reason: Agents never grant admin
  - id: users
    match: { kind: http, target: github }
    when: http.method == "POST" && http.path == "/users"
    outcome: allow
`;

const ctx = useServer({ policy: POLICY });

const submit = (input: Record<string, unknown>) =>
  raw(ctx.server.url, '/v1/actions', { method: 'POST', token: ctx.ws.tokens.agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'http', target: 'github', input }) });

/** Requests the target has received on /api/users. */
const usersCalls = () => ctx.target.received.filter((r) => r.url.startsWith('/api/users')).length;

async function auditSize(): Promise<number> {
  const store = createSqliteStore({ path: join(ctx.ws.dir, 'countersign.db') });
  try {
    return await store.auditSize();
  } finally {
    await store.close();
  }
}

async function settled(id: string): Promise<Record<string, unknown>> {
  return ctx.server.client(ctx.ws.tokens.agent).wait(id, { timeoutSeconds: 10 }) as unknown as Promise<Record<string, unknown>>;
}

describe('policy sees a body as the target will read it (issue 12 §3)', () => {
  it.each([
    ['a JSON string labelled application/json', { 'content-type': 'application/json' }, '{"role":"admin"}'],
    ['a JSON string with an odd-cased header and a charset', { 'Content-TYPE': 'Application/JSON; charset=UTF-8' }, '{"role":"admin"}'],
    ['a JSON string without a content type (servers that sniff parse it)', {}, '{"role":"admin"}'],
    ['a JSON string labelled text/plain', { 'content-type': 'text/plain' }, '  {"role":"admin"}'],
    ['a form body', { 'content-type': 'application/x-www-form-urlencoded' }, 'name=x&role=admin'],
  ])('%s with role=admin is denied and never reaches the target', async (_name, headers, body) => {
    const before = usersCalls();
    const r = await submit({ method: 'POST', path: '/users', headers, body });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'denied', decision: { outcome: 'deny', rules: expect.arrayContaining(['no-admin']) as unknown } });
    // Give a wrongly dispatched execution time to land before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(usersCalls()).toBe(before);
  });

  it('the same route with another role is allowed and the target gets the exact bytes approved', async () => {
    const body = '{ "role": "viewer", "n": 1.50 }';
    const r = await submit({ method: 'POST', path: '/users', headers: { 'content-type': 'application/json' }, body });
    expect(r.body).toMatchObject({ decision: { outcome: 'allow', rules: ['users'] } });
    const done = await settled(String(r.body.id));
    expect(done.status).toBe('succeeded');
    const seen = ctx.target.received.filter((x) => x.url === '/api/users').at(-1)!;
    expect(seen.body).toBe(body);
    expect(seen.headers['content-type']).toBe('application/json');
  });

  it.each([
    ['duplicate keys', { method: 'POST', path: '/users', headers: { 'content-type': 'application/json' }, body: '{"role":"viewer","role":"admin"}' }, 'AMBIGUOUS_BODY'],
    ['keys that differ in case', { method: 'POST', path: '/users', headers: { 'content-type': 'application/json' }, body: '{"role":"viewer","ROLE":"admin"}' }, 'AMBIGUOUS_BODY'],
    ['an integer JavaScript would round', { method: 'POST', path: '/users', headers: { 'content-type': 'application/json' }, body: '{"id":9007199254740993}' }, 'AMBIGUOUS_BODY'],
    ['a byte order mark', { method: 'POST', path: '/users', headers: { 'content-type': 'application/json' }, body: '\ufeff{"role":"admin"}' }, 'AMBIGUOUS_BODY'],
    ['a form with a non-UTF-8 escape', { method: 'POST', path: '/users', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'role=%c0%ae' }, 'AMBIGUOUS_BODY'],
    ['an object body labelled as a form', { method: 'POST', path: '/users', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: { x: '&role=admin' } }, 'AMBIGUOUS_BODY'],
    ['a content coding', { method: 'POST', path: '/users', headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' }, body: '{}' }, 'UNSAFE_REQUEST'],
    ['an overlong UTF-8 dot in the path (issue 12 §5)', { method: 'GET', path: '/repos/%c0%ae%c0%ae/admin' }, 'UNSAFE_REQUEST'],
    ['fullwidth dots in the path', { method: 'GET', path: '/repos/%EF%BC%8E%EF%BC%8E/admin' }, 'UNSAFE_REQUEST'],
    ['an encoded surrogate in the path', { method: 'GET', path: '/repos/%ed%a0%80' }, 'UNSAFE_REQUEST'],
    ['obs-text in a header value', { method: 'GET', path: '/repos/x', headers: { 'x-name': 'caf\u00e9' } }, 'VALIDATION_FAILED'],
  ])('%s is refused with a clear 400, records nothing and sends nothing', async (_name, input, code) => {
    const [audit, calls] = [await auditSize(), ctx.target.received.length];
    const r = await submit(input);
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(code);
    expect(typeof r.body.error?.message).toBe('string');
    expect(await auditSize()).toBe(audit);
    expect(ctx.target.received.length).toBe(calls);
  });
});
