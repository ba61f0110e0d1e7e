import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/domain/errors.js';
import { useServer } from './harness.js';

// Properties of the HTTP API under malformed and mutated input, against the real gateway
// process: never a 5xx, never a dropped connection or a hang; every refusal has a
// documented code with its documented status; a refused request changes nothing (the
// audit log, where every state change lands, keeps its size).

const POLICY = `
default: { outcome: review, review: { approvers: [group:release], quorum: 1, timeout: 1h } }
rules:
  - id: reads
    match: { kind: http, target: github }
    when: http.method == "GET"
    outcome: allow
  - id: deletes
    match: { kind: http }
    when: http.method == "DELETE"
    outcome: deny
`;

const ctx = useServer({ policy: POLICY, extraConfig: 'audit: { readerGroups: [admin] }' });

const json = fc.jsonValue({ maxDepth: 4 });
const validAction = fc.record({
  kind: fc.constantFrom('http', 'mcp', 'tool', 'sql'),
  target: fc.constantFrom('github', 'nope', ''),
  input: fc.record(
    {
      method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'get', 'TRACE', ''),
      path: fc.oneof(fc.constantFrom('/repos/acme/app', '/', '//x', '/../etc', '/%00'), fc.string({ maxLength: 40 })),
      query: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), json), { maxKeys: 3 }),
      headers: fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string({ maxLength: 12 }), json), { maxKeys: 3 }),
      body: json,
    },
    { requiredKeys: ['method', 'path'] },
  ),
  mode: fc.constantFrom('execute', 'decide', 'other', undefined),
  justification: fc.oneof(fc.string({ maxLength: 50 }), json),
});

/** A valid-looking value with one part replaced, removed or retyped. */
const mutated = <T>(base: fc.Arbitrary<T>) =>
  fc.tuple(base, fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), json, fc.constantFrom('replace', 'delete', 'wrap', 'keep')).map(([value, path, other, how]) => {
    if (how === 'keep' || typeof value !== 'object' || value === null) return value;
    const copy = structuredClone(value) as Record<string, unknown>;
    let node: Record<string, unknown> = copy;
    const keys = Object.keys(copy);
    const key = path[0] && how !== 'replace' ? path[0] : keys[path.length % Math.max(1, keys.length)] ?? 'x';
    for (const k of path.slice(1)) {
      const next = node[k];
      if (typeof next !== 'object' || next === null) break;
      node = next as Record<string, unknown>;
    }
    if (how === 'delete') delete node[key];
    else if (how === 'wrap') node[key] = [node[key], other];
    else node[key] = other;
    return copy;
  });

const bodyBytes = fc.oneof(
  { weight: 4, arbitrary: mutated(validAction).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) },
  { weight: 1, arbitrary: json.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '{"kind":', '[]', 'null', '{"__proto__":{"x":1}}', '{"kind":"http","kind":"mcp"}', '\u0000', '1e400') },
);

const id = fc.oneof(fc.constantFrom('act_0', 'x', '%2e%2e', 'a'.repeat(300), '00000000-0000-0000-0000-000000000000'), fc.string({ maxLength: 30 }));
const query = fc.dictionary(fc.constantFrom('wait', 'status', 'limit', 'cursor', 'start', 'end', 'seq', 'size', 'from', 'to', 'x'), fc.oneof(fc.string({ maxLength: 20 }), fc.integer().map(String)), { maxKeys: 4 });

const request = fc.record({
  route: fc.constantFrom('submit', 'list', 'get', 'approve', 'deny', 'cancel', 'entries', 'inclusion', 'consistency', 'receipt', 'checkpoint', 'mcp', 'deliveries', 'unknown'),
  id,
  query,
  body: bodyBytes,
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', undefined),
  auth: fc.constantFrom('agent', 'human', 'none', 'garbage', 'basic'),
});

function routeOf(r: { route: string; id: string }): { method: string; path: string } {
  const i = encodeURIComponent(r.id);
  switch (r.route) {
    case 'submit':
      return { method: 'POST', path: '/v1/actions' };
    case 'list':
      return { method: 'GET', path: '/v1/actions' };
    case 'get':
      return { method: 'GET', path: `/v1/actions/${i}` };
    case 'approve':
    case 'deny':
    case 'cancel':
      return { method: 'POST', path: `/v1/actions/${i}/${r.route}` };
    case 'entries':
      return { method: 'GET', path: '/v1/audit/entries' };
    case 'inclusion':
      return { method: 'GET', path: '/v1/audit/proof/inclusion' };
    case 'consistency':
      return { method: 'GET', path: '/v1/audit/proof/consistency' };
    case 'receipt':
      return { method: 'GET', path: `/v1/actions/${i}/receipt` };
    case 'checkpoint':
      return { method: 'GET', path: '/v1/audit/checkpoint' };
    case 'mcp':
      return { method: 'POST', path: '/mcp' };
    case 'deliveries':
      return { method: 'GET', path: `/v1/deliveries` };
    default:
      return { method: 'PATCH', path: `/v1/${i}` };
  }
}

async function auditSize(): Promise<number> {
  const res = await fetch(`${ctx.server.url}/v1/audit/entries?start=0&end=0`, { headers: { authorization: `Bearer ${ctx.ws.tokens.carol}` } });
  return ((await res.json()) as { size: number }).size;
}

describe('the HTTP API under fuzzed input', () => {
  it('never answers 5xx, always a documented code and status, and a refusal changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const { method, path } = routeOf(r);
        const qs = new URLSearchParams(r.query).toString();
        const headers: Record<string, string> = {};
        if (r.contentType && method !== 'GET') headers['content-type'] = r.contentType;
        if (r.auth === 'agent') headers.authorization = `Bearer ${ctx.ws.tokens.agent}`;
        if (r.auth === 'human') headers.authorization = `Bearer ${ctx.ws.tokens.alice}`;
        if (r.auth === 'garbage') headers.authorization = `Bearer ${r.id}`;
        if (r.auth === 'basic') headers.authorization = 'Basic Og==';
        if (r.route === 'mcp') headers.accept = 'application/json, text/event-stream';
        const before = await auditSize();
        const res = await fetch(`${ctx.server.url}${path}${qs ? `?${qs}` : ''}`, {
          method,
          headers,
          ...(method === 'GET' ? {} : { body: r.body }),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await res.text();
        expect(res.status, text).toBeLessThan(500);
        if (res.status >= 400) {
          const code = (JSON.parse(text) as { error?: { code?: string } }).error?.code as keyof typeof ERROR_CODES;
          expect(Object.keys(ERROR_CODES), text).toContain(code);
          expect(res.status, text).toBe(ERROR_CODES[code].status);
          expect(await auditSize(), `${method} ${path} changed the log while refusing: ${text}`).toBe(before);
        }
      }),
      { numRuns: Number(process.env.COUNTERSIGN_FUZZ_RUNS ?? 300), ...(process.env.COUNTERSIGN_FUZZ_SEED ? { seed: Number(process.env.COUNTERSIGN_FUZZ_SEED) } : {}) },
    );
    // Still alive and answering after all of it.
    expect((await fetch(`${ctx.server.url}/healthz`)).status).toBe(200);
  }, 300_000);
});
