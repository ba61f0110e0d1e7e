import { afterEach, describe, expect, it } from 'vitest';
import type { HttpTargetConfig } from '../../src/config/schema.js';
import { httpTargetSchema } from '../../src/config/schema.js';
import { createHttpExecutor } from '../../src/adapters/executors/http-executor.js';
import type { JsonObject } from '../../src/domain/action.js';
import { AppError } from '../../src/domain/errors.js';
import { runningAction } from './action-fixture.js';
import type { TestServer } from './http-test-server.js';
import { closedPort, startServer } from './http-test-server.js';

const TOKEN = 'tok_live_9f8e7d6c5b4a39281706';
const API_KEY = 'key-0123456789abcdef';
const SECRETS = [`Bearer ${TOKEN}`, TOKEN, API_KEY];

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

function target(baseUrl: string, over: Partial<Record<keyof HttpTargetConfig, unknown>> = {}): HttpTargetConfig {
  return httpTargetSchema.parse({ kind: 'http', baseUrl, headers: { Authorization: `Bearer ${TOKEN}`, 'X-Api-Key': API_KEY }, ...over });
}

function executorFor(t: HttpTargetConfig) {
  return createHttpExecutor({ targets: { api: t }, secrets: SECRETS });
}

const run = (t: HttpTargetConfig, input: JsonObject) => executorFor(t).execute(runningAction({ target: 'api', input }));

function assertNoSecret(value: unknown): void {
  const text = JSON.stringify(value);
  for (const s of [TOKEN, API_KEY]) expect(text).not.toContain(s);
}

describe('credential injection', () => {
  it('the target receives the injected credentials, and the agent cannot override them in any case', async () => {
    const s = await server((_req, res) => res.end('ok'));
    const r = await run(target(`${s.origin}/api`), {
      method: 'GET',
      path: '/x',
      headers: { AUTHORIZATION: 'Bearer agent-own-token', 'x-api-key': 'agent-key', 'X-Trace': 't1' },
    });
    expect(r.ok).toBe(true);
    expect(s.requests).toHaveLength(1);
    const seen = s.requests[0]!;
    expect(seen.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen.headers['x-api-key']).toBe(API_KEY);
    expect(seen.headers['x-trace']).toBe('t1');
    expect(seen.headers.host).toBe(new URL(s.origin).host);
    assertNoSecret(r);
  });

  it('an agent host header is refused and nothing is sent', async () => {
    const s = await server((_req, res) => res.end('ok'));
    const r = await run(target(s.origin), { method: 'GET', path: '/x', headers: { Host: 'evil.example' } });
    expect(r).toMatchObject({ ok: false, reason: 'UNSAFE_REQUEST', error: { code: 'UNSAFE_REQUEST' } });
    expect(r.error?.message).toMatch(/host/);
    expect(s.requests).toHaveLength(0);
  });
});

describe('nothing leaves the base URL', () => {
  const escapes = [
    '//127.0.0.1:1/x',
    'relative/path',
    '/api/../admin',
    '/..',
    '/./x',
    '/x/..;/admin',
    '/%2e%2e/admin',
    '/.%2E/admin',
    '/a%2f..%2fadmin',
    '/a%5c..%5cadmin',
    '/%252e%252e/admin',
    '/a\\..\\admin',
    '/a\r\nX-Injected: 1',
    '/a%0d%0aX-Injected:%201',
    '/@evil.example',
    '/a?x=1',
    '/a#x',
    '/a b',
    '/a//b',
    '/\uff0e\uff0e/admin',
  ];

  it.each(escapes)('%j is refused and the server sees no request', async (path) => {
    const s = await server((_req, res) => res.end('ok'));
    const r = await run(target(`${s.origin}/api`), { method: 'GET', path });
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('UNSAFE_REQUEST');
    expect(s.requests).toHaveLength(0);
  });

  it('an absolute URL to another live server reaches neither server', async () => {
    const s = await server((_req, res) => res.end('ok'));
    const other = await server((_req, res) => res.end('other'));
    const r = await run(target(`${s.origin}/api`), { method: 'GET', path: `${other.origin}/x` });
    expect(r.error?.code).toBe('UNSAFE_REQUEST');
    expect(s.requests).toHaveLength(0);
    expect(other.requests).toHaveLength(0);
  });

  it.each([
    ['/repos/a/b/releases', undefined, '/api/repos/a/b/releases'],
    ['/a%20b', undefined, '/api/a%20b'],
    ['/search', { q: 'a b&c=d#e/?', tag: ['x', 'y+z'] }, '/api/search?q=a%20b%26c%3Dd%23e%2F%3F&tag=x&tag=y%2Bz'],
  ])('legitimate %s reaches the server as %s', async (path, query, seenUrl) => {
    const s = await server((_req, res) => res.end('ok'));
    const input: JsonObject = { method: 'GET', path };
    if (query) input.query = query;
    const r = await run(target(`${s.origin}/api/`), input);
    expect(r.ok).toBe(true);
    expect(s.requests.map((q) => q.url)).toEqual([seenUrl]);
  });
});

describe('redirects', () => {
  it('a redirect to another origin is refused and the other origin is never contacted', async () => {
    const other = await server((_req, res) => res.end('other'));
    const s = await server((_req, res) => {
      res.writeHead(302, { location: `${other.origin}/api/x` });
      res.end();
    });
    const r = await run(target(`${s.origin}/api`, { followRedirects: 5 }), { method: 'GET', path: '/r' });
    expect(r).toMatchObject({ ok: false, status: 302, error: { code: 'REDIRECT_REFUSED' } });
    expect(r.error?.message).toMatch(/another origin/);
    expect(other.requests).toHaveLength(0);
    expect(s.requests).toHaveLength(1);
  });

  it('a redirect outside the base path is refused and not followed', async () => {
    const s = await server((req, res) => {
      if (req.url === '/api/r') {
        res.writeHead(301, { location: '/admin' });
        res.end();
      } else res.end('should not be reached');
    });
    const r = await run(target(`${s.origin}/api`, { followRedirects: 5 }), { method: 'GET', path: '/r' });
    expect(r).toMatchObject({ ok: false, error: { code: 'REDIRECT_REFUSED' } });
    expect(r.error?.message).toMatch(/outside/);
    expect(s.requests.map((q) => q.url)).toEqual(['/api/r']);
  });

  async function sameOriginRedirect(): Promise<TestServer> {
    return server((req, res) => {
      if (req.url === '/api/r') {
        res.writeHead(302, { location: '/api/final' });
        res.end();
      } else res.end(JSON.stringify({ at: req.url }));
    });
  }

  it('a same-origin redirect under the base is not followed when followRedirects is 0', async () => {
    const s = await sameOriginRedirect();
    const r = await run(target(`${s.origin}/api`), { method: 'GET', path: '/r' });
    expect(r).toMatchObject({ ok: false, status: 302, headers: { location: '/api/final' }, error: { code: 'REDIRECT_REFUSED' } });
    expect(s.requests.map((q) => q.url)).toEqual(['/api/r']);
  });

  it('a same-origin redirect under the base is followed, with the credentials, when configured', async () => {
    const s = await sameOriginRedirect();
    const r = await run(target(`${s.origin}/api`, { followRedirects: 1 }), { method: 'GET', path: '/r' });
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.body).toBe('{"at":"/api/final"}');
    expect(s.requests.map((q) => q.url)).toEqual(['/api/r', '/api/final']);
    expect(s.requests[1]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('stops at followRedirects', async () => {
    const s = await server((req, res) => {
      const n = Number(req.url.split('/').pop());
      res.writeHead(307, { location: `/api/${n + 1}` });
      res.end();
    });
    const r = await run(target(`${s.origin}/api`, { followRedirects: 2 }), { method: 'GET', path: '/0' });
    expect(r.error?.code).toBe('REDIRECT_REFUSED');
    expect(r.error?.message).toMatch(/at most 2/);
    expect(s.requests.map((q) => q.url)).toEqual(['/api/0', '/api/1', '/api/2']);
  });

  it('303 after POST becomes a GET without body; 307 keeps the method and body', async () => {
    const s = await server((req, res) => {
      if (req.url === '/api/see-other') res.writeHead(303, { location: '/api/done' }).end();
      else if (req.url === '/api/temp') res.writeHead(307, { location: '/api/done' }).end();
      else res.end('done');
    });
    const t = target(`${s.origin}/api`, { followRedirects: 1 });
    await run(t, { method: 'POST', path: '/see-other', body: { a: 1 } });
    await run(t, { method: 'POST', path: '/temp', body: { a: 2 } });
    expect(s.requests.map((q) => [q.method, q.url, q.body, q.headers['content-type']])).toEqual([
      ['POST', '/api/see-other', '{"a":1}', 'application/json'],
      ['GET', '/api/done', '', undefined],
      ['POST', '/api/temp', '{"a":2}', 'application/json'],
      ['POST', '/api/done', '{"a":2}', 'application/json'],
    ]);
  });
});

describe('timeouts and size caps', () => {
  it('a target that never answers times out as a failure', async () => {
    const s = await server(() => {
      /* never responds */
    });
    const r = await run(target(s.origin, { timeout: '200ms' }), { method: 'GET', path: '/slow' });
    expect(r).toMatchObject({ ok: false, reason: 'timeout', error: { code: 'TIMEOUT' } });
    expect(r.status).toBeUndefined();
    expect(s.requests).toHaveLength(1);
  });

  it('a body that stalls times out, keeping the status that did arrive', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    const r = await run(target(s.origin, { timeout: '200ms' }), { method: 'GET', path: '/stall' });
    expect(r).toMatchObject({ ok: false, reason: 'timeout', status: 200, headers: { 'content-type': 'text/plain' } });
  });

  it('a body over maxResponseBytes is cut at the cap and flagged', async () => {
    const s = await server((_req, res) => res.end('a'.repeat(10_000)));
    const r = await run(target(s.origin, { maxResponseBytes: 1000 }), { method: 'GET', path: '/big' });
    expect(r).toMatchObject({ ok: true, status: 200, bodyTruncated: true, bodyEncoding: 'text' });
    expect(r.body).toBe('a'.repeat(1000));
  });

  it('an endless body is not read past the cap: the connection is dropped', async () => {
    let closed!: () => void;
    const dropped = new Promise<void>((resolve) => (closed = resolve));
    const s = await server((_req, res) => {
      const chunk = 'z'.repeat(4096);
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => {
        clearInterval(timer);
        closed();
      });
    });
    const r = await run(target(s.origin, { maxResponseBytes: 64 * 1024 }), { method: 'GET', path: '/endless' });
    expect(r).toMatchObject({ ok: true, bodyTruncated: true });
    expect((r.body as string).length).toBe(64 * 1024);
    await dropped;
  });

  it('a body exactly at the cap is complete', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ v: 'x'.repeat(90) })));
    const r = await run(target(s.origin, { maxResponseBytes: 100 }), { method: 'GET', path: '/exact' });
    expect(r).toMatchObject({ bodyTruncated: false, bodyEncoding: 'json', body: { v: 'x'.repeat(90) } });
  });
});

describe('response bodies and headers', () => {
  it('stores JSON parsed, text as text, bad JSON and truncated JSON as text, binary as base64', async () => {
    const s = await server((req, res) => {
      if (req.url === '/json') res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"a":[1,"b"]}');
      else if (req.url === '/problem') res.writeHead(422, { 'content-type': 'application/problem+json' }).end('{"title":"bad"}');
      else if (req.url === '/text') res.writeHead(200, { 'content-type': 'text/plain' }).end('héllo');
      else if (req.url === '/badjson') res.writeHead(200, { 'content-type': 'application/json' }).end('{nope');
      else if (req.url === '/bigjson') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ v: 'x'.repeat(500) }));
      else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    });
    const t = target(s.origin, { maxResponseBytes: 100 });
    expect(await run(t, { method: 'GET', path: '/json' })).toMatchObject({ ok: true, body: { a: [1, 'b'] }, bodyEncoding: 'json' });
    expect(await run(t, { method: 'GET', path: '/problem' })).toMatchObject({ ok: false, status: 422, body: { title: 'bad' }, bodyEncoding: 'json' });
    expect(await run(t, { method: 'GET', path: '/text' })).toMatchObject({ body: 'héllo', bodyEncoding: 'text' });
    expect(await run(t, { method: 'GET', path: '/badjson' })).toMatchObject({ body: '{nope', bodyEncoding: 'text' });
    const big = await run(t, { method: 'GET', path: '/bigjson' });
    expect(big).toMatchObject({ bodyEncoding: 'text', bodyTruncated: true });
    expect(big.body).toBe(JSON.stringify({ v: 'x'.repeat(500) }).slice(0, 100));
    expect(await run(t, { method: 'GET', path: '/bin' })).toMatchObject({ body: Buffer.from([0xff, 0xfe, 0x00, 0x80]).toString('base64'), bodyEncoding: 'base64' });
  });

  it('a non-2xx response is a failed result with the response, not an error', async () => {
    const s = await server((_req, res) => res.writeHead(404, { 'content-type': 'text/plain', 'content-length': '13' }).end('no such thing'));
    const r = await run(target(s.origin), { method: 'GET', path: '/missing' });
    expect(r).toEqual({ ok: false, status: 404, headers: { 'content-type': 'text/plain', 'content-length': '13', date: expect.any(String) as string }, body: 'no such thing', bodyEncoding: 'text', bodyTruncated: false });
  });

  it('redacts secrets the target echoes in body and headers, and drops set-cookie', async () => {
    const s = await server((req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-request-id': `req-${String(req.headers['x-api-key'])}`,
        etag: `"${TOKEN}"`,
        'set-cookie': `session=${TOKEN}; HttpOnly`,
        'x-echo-auth': String(req.headers.authorization),
      });
      res.end(JSON.stringify({ youSent: req.headers, [TOKEN]: 'as a key', nested: [{ k: `key=${API_KEY}` }] }));
    });
    const r = await run(target(s.origin), { method: 'GET', path: '/echo' });
    expect(r.ok).toBe(true);
    assertNoSecret(r);
    expect(r.headers).toMatchObject({ 'x-request-id': 'req-[REDACTED]', etag: '"[REDACTED]"' });
    expect(r.headers).not.toHaveProperty('set-cookie');
    expect(r.headers).not.toHaveProperty('x-echo-auth');
    const body = r.body as { youSent: Record<string, string>; nested: Array<{ k: string }> };
    expect(body.youSent.authorization).toBe('[REDACTED]');
    expect(body.nested[0]!.k).toBe('key=[REDACTED]');
    expect(body).toHaveProperty('[REDACTED]', 'as a key');
  });

  it('redacts secrets echoed in text, in binary, and cut in half by the size cap', async () => {
    const s = await server((req, res) => {
      if (req.url === '/text') res.writeHead(200, { 'content-type': 'text/plain' }).end(`token is ${TOKEN}.`);
      else if (req.url === '/bin') res.writeHead(200).end(Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from(TOKEN), Buffer.from([0xfe])]));
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(`${'x'.repeat(90)}${TOKEN}`);
    });
    const t = target(s.origin, { maxResponseBytes: 100 });
    const text = await run(t, { method: 'GET', path: '/text' });
    expect(text.body).toBe('token is [REDACTED].');
    const bin = await run(t, { method: 'GET', path: '/bin' });
    expect(bin.bodyEncoding).toBe('base64');
    expect(Buffer.from(bin.body as string, 'base64').toString('latin1')).toBe('\xff\x00[REDACTED]\xfe');
    const cut = await run(t, { method: 'GET', path: '/cut' });
    expect(cut.bodyTruncated).toBe(true);
    expect(cut.body).toBe('x'.repeat(90));
    assertNoSecret([text, bin, cut]);
  });

  it('redacts the decoded user:password of injected Basic credentials', async () => {
    const basic = Buffer.from('svc-user:pa55word-long').toString('base64');
    const s = await server((req, res) => res.end(`hello ${Buffer.from(String(req.headers.authorization).split(' ')[1] ?? '', 'base64').toString()}`));
    const t = target(s.origin, { headers: { Authorization: `Basic ${basic}` } });
    const r = await createHttpExecutor({ targets: { api: t }, secrets: [] }).execute(runningAction({ target: 'api', input: { method: 'GET', path: '/' } }));
    expect(r.body).toBe('hello [REDACTED]');
  });
});

describe('failures are results, never throws', () => {
  it('connection refused', async () => {
    const port = await closedPort();
    const r = await run(target(`http://127.0.0.1:${port}/api`), { method: 'GET', path: '/x' });
    expect(r).toMatchObject({ ok: false, reason: 'CONNECTION_FAILED', error: { code: 'CONNECTION_FAILED' } });
    expect(r.error?.message).toMatch(/ECONNREFUSED/);
  });

  it('a fetch error quoting a secret is reported without it', async () => {
    const leaky = (() => Promise.reject(new TypeError(`fetch failed for ${TOKEN}`, { cause: Object.assign(new Error(`boom ${TOKEN}`), { code: 'ECONNRESET' }) }))) as typeof fetch;
    const e = createHttpExecutor({ targets: { api: target('http://127.0.0.1:9/') }, secrets: SECRETS, fetch: leaky });
    const r = await e.execute(runningAction({ target: 'api', input: { method: 'GET', path: '/x' } }));
    expect(r).toMatchObject({ ok: false, error: { code: 'CONNECTION_FAILED' } });
    assertNoSecret(r);
  });

  it('a fetch that throws something odd is still a result', async () => {
    const odd = (() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a fetch that misbehaves this way must still yield a result
      throw 'not an error';
    }) as unknown as typeof fetch;
    const e = createHttpExecutor({ targets: { api: target('http://127.0.0.1:9/') }, secrets: SECRETS, fetch: odd });
    const r = await e.execute(runningAction({ target: 'api', input: { method: 'GET', path: '/x' } }));
    expect(r).toMatchObject({ ok: false, error: { code: 'EXECUTION_FAILED' } });
  });

  it('a record changed after approval (fingerprint mismatch) sends nothing', async () => {
    const s = await server((_req, res) => res.end('ok'));
    const e = executorFor(target(s.origin));
    const a = runningAction({ target: 'api', input: { method: 'GET', path: '/safe' } });
    const r = await e.execute({ ...a, input: { method: 'DELETE', path: '/everything' } });
    expect(r).toMatchObject({ ok: false, error: { code: 'FINGERPRINT_MISMATCH' } });
    const r2 = await e.execute({ ...a, requester: { ...a.requester, id: 'someone-else' } });
    expect(r2.error?.code).toBe('FINGERPRINT_MISMATCH');
    expect(s.requests).toHaveLength(0);
  });

  it.each(['approved', 'pending', 'succeeded', 'failed'] as const)('an action that is %s, not running, sends nothing', async (status) => {
    const s = await server((_req, res) => res.end('ok'));
    const r = await executorFor(target(s.origin)).execute({ ...runningAction({ target: 'api', input: { method: 'GET', path: '/x' } }), status });
    expect(r.error?.code).toBe('NOT_RUNNING');
    expect(s.requests).toHaveLength(0);
  });

  it('an unknown target or a kind mismatch sends nothing', async () => {
    const s = await server((_req, res) => res.end('ok'));
    const e = executorFor(target(s.origin));
    const input = { method: 'GET', path: '/x' };
    expect((await e.execute(runningAction({ target: 'nope', input }))).error?.code).toBe('TARGET_NOT_FOUND');
    expect((await e.execute(runningAction({ target: '__proto__', input }))).error?.code).toBe('TARGET_NOT_FOUND');
    expect((await e.execute(runningAction({ target: 'api', input, kind: 'mcp' }))).error?.code).toBe('KIND_MISMATCH');
    expect(s.requests).toHaveLength(0);
  });

  it('an input that fails validation sends nothing', async () => {
    const s = await server((_req, res) => res.end('ok'));
    const r = await run(target(s.origin), { method: 'GET', path: '/x', body: { a: 1 } });
    expect(r.error?.code).toBe('VALIDATION_FAILED');
    expect(s.requests).toHaveLength(0);
  });

  it('a cancellation while the request is in flight ends it as aborted, not as a timeout', async () => {
    let reached!: () => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const s = await server(() => reached());
    const ac = new AbortController();
    const pending = executorFor(target(s.origin, { timeout: '1h' })).execute(runningAction({ target: 'api', input: { method: 'GET', path: '/x' } }), ac.signal);
    await arrived;
    ac.abort();
    expect(await pending).toMatchObject({ ok: false, reason: 'aborted', error: { code: 'ABORTED' } });
  });

  it('a cancelled execution sends nothing', async () => {
    const s = await server((_req, res) => res.end('ok'));
    const ac = new AbortController();
    ac.abort();
    const r = await executorFor(target(s.origin)).execute(runningAction({ target: 'api', input: { method: 'GET', path: '/x' } }), ac.signal);
    expect(r).toMatchObject({ ok: false, reason: 'aborted', error: { code: 'ABORTED' } });
    expect(s.requests).toHaveLength(0);
  });
});

describe('methods and bodies', () => {
  it('GET sends no body; POST sends JSON with its content type; strings go as-is; the agent content type wins', async () => {
    const s = await server((_req, res) => res.end('ok'));
    const t = target(s.origin);
    await run(t, { method: 'GET', path: '/g' });
    await run(t, { method: 'POST', path: '/p', body: { name: 'x', n: [1, 2] } });
    await run(t, { method: 'PUT', path: '/s', body: 'raw text' });
    await run(t, { method: 'PATCH', path: '/v', headers: { 'Content-Type': 'application/merge-patch+json' }, body: { a: null } });
    await run(t, { method: 'DELETE', path: '/d' });
    const [get, post, put, patch, del] = s.requests;
    expect(get).toMatchObject({ method: 'GET', body: '' });
    expect(get!.headers['content-length']).toBeUndefined();
    expect(get!.headers['transfer-encoding']).toBeUndefined();
    expect(get!.headers['content-type']).toBeUndefined();
    expect(post).toMatchObject({ method: 'POST', body: '{"name":"x","n":[1,2]}' });
    expect(post!.headers['content-type']).toBe('application/json');
    expect(post!.headers['content-length']).toBe('22');
    expect(put).toMatchObject({ method: 'PUT', body: 'raw text' });
    expect(put!.headers['content-type']).toMatch(/^text\/plain/);
    expect(patch!.headers['content-type']).toBe('application/merge-patch+json');
    expect(patch!.body).toBe('{"a":null}');
    expect(del).toMatchObject({ method: 'DELETE', body: '' });
  });

  it('a body the target could read otherwise than policy is refused again before sending, under the target\'s own content type too', async () => {
    const s = await server((_req, res) => res.end('ok'));
    const dup = await run(target(s.origin), { method: 'POST', path: '/users', headers: { 'content-type': 'application/json' }, body: '{"role":"user","role":"admin"}' });
    expect(dup).toMatchObject({ ok: false, reason: 'AMBIGUOUS_BODY', error: { code: 'AMBIGUOUS_BODY' } });
    // The target injects a JSON content type: the agent's text/plain label is replaced, so the body is read as JSON.
    const injected = target(s.origin, { headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' } });
    const r = await run(injected, { method: 'POST', path: '/users', headers: { 'content-type': 'text/plain' }, body: '{"a":1,"A":2}' });
    expect(r.error?.code).toBe('AMBIGUOUS_BODY');
    expect(s.requests).toHaveLength(0);
  });

  it('a string JSON body is sent byte for byte, as approved', async () => {
    const s = await server((_req, res) => res.end('ok'));
    const body = '{ "role" : "user",\n  "n": 1.50 }';
    await run(target(s.origin), { method: 'POST', path: '/users', headers: { 'content-type': 'application/json; charset=utf-8' }, body });
    expect(s.requests[0]).toMatchObject({ body });
    expect(s.requests[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('HEAD stores no body', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' }).end());
    const r = await run(target(s.origin), { method: 'HEAD', path: '/h' });
    expect(r).toMatchObject({ ok: true, status: 200, bodyTruncated: false });
    expect(r.body).toBeUndefined();
    expect(s.requests[0]!.method).toBe('HEAD');
  });
});

describe('target configuration', () => {
  it.each([
    [{ headers: { 'X-Key': `a\r\n${TOKEN}` } }, /control/],
    [{ headers: { 'Transfer-Encoding': 'chunked' } }, /smuggling/],
    [{ headers: { Host: 'other.example' } }, /host/],
    [{ headers: { 'Content-Encoding': 'gzip' } }, /content coding/],
    [{ headers: { 'x-a': '1', 'X-A': '2' } }, /twice/],
    [{ headers: { 'bad name': '1' } }, /token/],
    [{ baseUrl: `https://u:${TOKEN}@h.example/` }, /credentials/],
  ])('refuses an unusable target at creation without quoting secrets (%#)', (over, message) => {
    let err: unknown;
    try {
      createHttpExecutor({ targets: { api: target('https://h.example/', over) }, secrets: SECRETS });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('CONFIG_INVALID');
    expect((err as AppError).message).toMatch(message);
    expect((err as AppError).message).not.toContain(TOKEN);
  });
});
