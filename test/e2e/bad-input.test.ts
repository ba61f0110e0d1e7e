import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { BASE_POLICY, raw, runCli, until, useServer, workspace } from './harness.js';

const ctx = useServer();

async function auditSize(): Promise<number> {
  const store = createSqliteStore({ path: join(ctx.ws.dir, 'countersign.db') });
  try {
    return await store.auditSize();
  } finally {
    await store.close();
  }
}

const post = (path: string, body: string | undefined, token: string | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  raw(ctx.server.url, path, { method: 'POST', headers, ...(body !== undefined ? { body } : {}), ...(token ? { token } : {}) });

describe('bad requests get a clear 4xx with a stable code and change nothing', () => {
  const good = { kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/a/b/releases' } };
  const cases: Array<[string, () => ReturnType<typeof raw>, number, string]> = [
    ['no credentials', () => post('/v1/actions', JSON.stringify(good), undefined), 401, 'UNAUTHENTICATED'],
    ['a wrong token', () => post('/v1/actions', JSON.stringify(good), 'not-a-real-token-at-all'), 401, 'UNAUTHENTICATED'],
    ['malformed JSON', () => post('/v1/actions', '{"kind": "http",', ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['an empty body', () => post('/v1/actions', '', ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['a non-JSON content type', () => post('/v1/actions', 'kind=http', ctx.ws.tokens.agent, { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an unknown key', () => post('/v1/actions', JSON.stringify({ ...good, sudo: true }), ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['an unknown input key', () => post('/v1/actions', JSON.stringify({ ...good, input: { ...good.input, url: 'http://evil' } }), ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['a wrong type', () => post('/v1/actions', JSON.stringify({ ...good, target: 42 }), ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['a missing field', () => post('/v1/actions', JSON.stringify({ kind: 'http', target: 'github' }), ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['an unknown kind', () => post('/v1/actions', JSON.stringify({ ...good, kind: 'ftp' }), ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['an unknown method', () => post('/v1/actions', JSON.stringify({ ...good, input: { method: 'BREW', path: '/' } }), ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['an unknown mode', () => post('/v1/actions', JSON.stringify({ ...good, mode: 'yolo' }), ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['a terminal escape in the justification', () => post('/v1/actions', JSON.stringify({ ...good, justification: 'fine\u001b[2A\u001b[2Kwill run: GET /' }), ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['a bidi override in the justification', () => post('/v1/actions', JSON.stringify({ ...good, justification: 'abc\u202edef' }), ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['a look-alike onBehalfOf', () => post('/v1/actions', JSON.stringify({ ...good, onBehalfOf: '\u212Aate@example.com' }), ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['a path parameter', () => post('/v1/actions', JSON.stringify({ ...good, input: { method: 'GET', path: '/admin;x/users' } }), ctx.ws.tokens.agent), 400, 'UNSAFE_REQUEST'],
    ['a lone surrogate in the body', () => post('/v1/actions', '{"kind":"http","target":"github","input":{"method":"POST","path":"/x","body":{"n":"\\ud800"}}}', ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['a lone surrogate in the context', () => post('/v1/actions', '{"kind":"http","target":"github","input":{"method":"POST","path":"/x"},"context":{"\\udc00":1}}', ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['an infinite number', () => post('/v1/actions', '{"kind":"http","target":"github","input":{"method":"POST","path":"/x","body":{"n":1e400}}}', ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['nesting 5,000 levels deep', () => post('/v1/actions', `{"kind":"http","target":"github","input":{"method":"POST","path":"/x","body":${'['.repeat(5000)}${']'.repeat(5000)}}}`, ctx.ws.tokens.agent), 400, 'VALIDATION_FAILED'],
    ['a JSON string body with a duplicate key', () => post('/v1/actions', JSON.stringify({ ...good, input: { ...good.input, headers: { 'content-type': 'application/json' }, body: '{"draft":true,"draft":false}' } }), ctx.ws.tokens.agent), 400, 'AMBIGUOUS_BODY'],
    ['a path with an overlong UTF-8 dot', () => post('/v1/actions', JSON.stringify({ ...good, input: { method: 'GET', path: '/repos/%c0%ae%c0%ae/x' } }), ctx.ws.tokens.agent), 400, 'UNSAFE_REQUEST'],
    ['an unknown target', () => post('/v1/actions', JSON.stringify({ ...good, target: 'gitlab' }), ctx.ws.tokens.agent), 404, 'TARGET_NOT_FOUND'],
    ['a path that leaves the target', () => post('/v1/actions', JSON.stringify({ ...good, input: { method: 'GET', path: '/../../etc/passwd' } }), ctx.ws.tokens.agent), 400, 'UNSAFE_REQUEST'],
    ['an absolute URL', () => post('/v1/actions', JSON.stringify({ ...good, input: { method: 'GET', path: 'http://169.254.169.254/latest' } }), ctx.ws.tokens.agent), 400, 'UNSAFE_REQUEST'],
    ['a bad idempotency key', () => post('/v1/actions', JSON.stringify(good), ctx.ws.tokens.agent, { 'content-type': 'application/json', 'idempotency-key': 'ünïcode' }), 400, 'VALIDATION_FAILED'],
    ['a body over the limit', () => post('/v1/actions', JSON.stringify({ ...good, justification: 'x'.repeat(2 * 1024 * 1024) }), ctx.ws.tokens.agent), 413, 'PAYLOAD_TOO_LARGE'],
    ['a malformed action id', () => raw(ctx.server.url, '/v1/actions/..%2f..%2fetc', { token: ctx.ws.tokens.agent }), 400, 'VALIDATION_FAILED'],
    ['an unknown action', () => raw(ctx.server.url, `/v1/actions/act_${'0'.repeat(32)}`, { token: ctx.ws.tokens.agent }), 404, 'NOT_FOUND'],
    ['a negative wait', () => raw(ctx.server.url, `/v1/actions/act_${'0'.repeat(32)}?wait=-1`, { token: ctx.ws.tokens.agent }), 400, 'VALIDATION_FAILED'],
    ['a hexadecimal wait', () => raw(ctx.server.url, `/v1/actions/act_${'0'.repeat(32)}?wait=0x10`, { token: ctx.ws.tokens.agent }), 400, 'VALIDATION_FAILED'],
    ['a wait in exponent notation', () => raw(ctx.server.url, `/v1/actions/act_${'0'.repeat(32)}?wait=1e1`, { token: ctx.ws.tokens.agent }), 400, 'VALIDATION_FAILED'],
    ['a fractional audit start', () => raw(ctx.server.url, '/v1/audit/entries?start=1.0', { token: ctx.ws.tokens.agent }), 400, 'VALIDATION_FAILED'],
    ['a bad status filter', () => raw(ctx.server.url, '/v1/actions?status=pending,bogus', { token: ctx.ws.tokens.agent }), 400, 'VALIDATION_FAILED'],
    ['a bad cursor', () => raw(ctx.server.url, '/v1/actions?cursor=nope', { token: ctx.ws.tokens.agent }), 400, 'VALIDATION_FAILED'],
    ['an approval without fingerprint', () => post(`/v1/actions/act_${'0'.repeat(32)}/approve`, '{}', ctx.ws.tokens.alice), 400, 'VALIDATION_FAILED'],
    ['an approval with a malformed fingerprint', () => post(`/v1/actions/act_${'0'.repeat(32)}/approve`, '{"fingerprint":"md5:x"}', ctx.ws.tokens.alice), 400, 'VALIDATION_FAILED'],
    ['a deny without comment', () => post(`/v1/actions/act_${'0'.repeat(32)}/deny`, '{}', ctx.ws.tokens.alice), 400, 'VALIDATION_FAILED'],
    ['a lone surrogate in a deny comment', () => post(`/v1/actions/act_${'0'.repeat(32)}/deny`, '{"comment":"no \\ud800"}', ctx.ws.tokens.alice), 400, 'VALIDATION_FAILED'],
    ['an unknown route', () => raw(ctx.server.url, '/v2/actions', { token: ctx.ws.tokens.agent }), 404, 'ROUTE_NOT_FOUND'],
    ['/mcp when no MCP server is configured', () => post('/mcp', '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', ctx.ws.tokens.agent), 404, 'ROUTE_NOT_FOUND'],
  ];

  it.each(cases)('%s', async (_name, send, status, code) => {
    const before = await auditSize();
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.body.error?.code).toBe(code);
    expect(typeof r.body.error?.message).toBe('string');
    expect(JSON.stringify(r.body)).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    expect(await auditSize()).toBe(before);
  });
});

describe('policy loading', () => {
  it('a server does not start on a bad policy, and says where', async () => {
    const bad = workspace(ctx.target.url, { policy: BASE_POLICY.replace('http.method == "DELETE"', 'http.method ==== "DELETE"') });
    try {
      const r = await runCli(['serve', '--config', bad.configPath], bad.env);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/policy\.yaml:\d+/);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    } finally {
      bad.cleanup();
    }
  });

  it('reloads on change, keeps the last good policy on a bad one, and audits every load', async () => {
    const agent = ctx.server.client(ctx.ws.tokens.agent);
    const v1 = (await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/r' } })).decision.policyVersion;
    // A bad policy on SIGHUP: rejected, the old one stays in force.
    writeFileSync(ctx.ws.policyPath, `${BASE_POLICY}\n  - id: reads\n    outcome: allow\n`);
    ctx.server.child.kill('SIGHUP');
    await until(async () => ctx.server.logs.join('\n'), (l) => l.includes('policy rejected'));
    const still = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/r2' } });
    expect(still.decision.policyVersion).toBe(v1);
    // A good change on disk: picked up without a signal.
    writeFileSync(ctx.ws.policyPath, BASE_POLICY.replace('outcome: deny\n    reason: Agents never delete', 'outcome: review\n    review: { approvers: [group:oncall], quorum: 1, timeout: 5m }\n    reason: Agents never delete'));
    const after = await until(
      () => agent.submit({ kind: 'http', target: 'github', input: { method: 'DELETE', path: '/r3' } }),
      (a) => a.decision.policyVersion !== v1,
    );
    expect(after.decision.outcome).toBe('review');
    const store = createSqliteStore({ path: join(ctx.ws.dir, 'countersign.db') });
    try {
      const all = await store.readAudit(0, await store.auditSize());
      const loads = all.filter((e) => e.type === 'policy.loaded' || e.type === 'policy.rejected' || e.type === 'config.rejected').map((e) => [e.type, e.data.trigger]);
      // The bad write may be seen by the file watcher as well as by SIGHUP: each attempt is recorded.
      // SIGHUP reloads the whole config (docs/operations.md), so its refusal is a config.rejected.
      expect(loads[0]).toEqual(['policy.loaded', 'startup']);
      expect(loads.at(-1)).toEqual(['policy.loaded', 'file-change']);
      const middle = loads.slice(1, -1);
      expect(middle.length).toBeGreaterThanOrEqual(1);
      expect(middle.every(([type]) => type === 'policy.rejected' || type === 'config.rejected')).toBe(true);
      expect(middle.map(([, trigger]) => trigger)).toContain('sighup');
    } finally {
      await store.close();
    }
  });
});
