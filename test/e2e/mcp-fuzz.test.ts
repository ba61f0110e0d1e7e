import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/domain/errors.js';
import { startServer, startTarget, workspace } from './harness.js';
import type { ServerProcess, Workspace } from './harness.js';
import { callsIn, NOTES_SERVER } from './mcp-harness.js';

// Properties of the MCP gateway's Streamable HTTP endpoint (POST /mcp) under malformed and
// mutated JSON-RPC, against the real gateway process and a real upstream (the notes
// server over stdio, which logs every call it runs): never a 5xx, a hang or a dropped
// connection; every error is a JSON-RPC error with a documented code (or, before the
// transport, a catalog code with its status); a refused call changes nothing (the audit
// log keeps its size) and reaches no upstream tool; the upstream only ever runs the one
// call policy allows.

const POLICY = `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: reads
    match: { kind: mcp, target: notes }
    when: mcp.tool == "read_note" && !(has(mcp.arguments.name) && mcp.arguments.name == "secret")
    outcome: allow
`;

const RUNS = Number(process.env.COUNTERSIGN_FUZZ_RUNS ?? 250);
const SEED = process.env.COUNTERSIGN_FUZZ_SEED ? { seed: Number(process.env.COUNTERSIGN_FUZZ_SEED) } : {};

/**
 * JSON-RPC codes the endpoint may answer with (JSON-RPC 2.0 and the MCP SDK's transport,
 * docs/api.md): parse error, invalid request, method not found, invalid params, and the
 * transport's -32000 (bad headers, unsupported protocol version). Never -32603, an
 * internal error.
 */
const JSONRPC_CODES = [-32700, -32600, -32601, -32602, -32000];

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess;
let notesDir: string;

beforeAll(async () => {
  target = await startTarget();
  ws = workspace(target.url, { policy: POLICY });
  notesDir = join(ws.dir, 'notes');
  mkdirSync(notesDir, { recursive: true });
  writeFileSync(
    ws.configPath,
    `${readFileSync(ws.configPath, 'utf8')}
audit: { readerGroups: [admin] }
mcp:
  hold: 1s
  servers:
    notes: { command: "${process.execPath}", args: ["${NOTES_SERVER}"], env: { NOTES_DIR: "${notesDir}" } }
`,
  );
  server = await startServer(ws);
  // The first listing pins the upstream's tools (audited): done before any property measures the log.
  const first = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }), HEADERS);
  expect(first.status).toBe(200);
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
});

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function post(body: string, headers: Record<string, string>, token: string | undefined = ws.tokens.agent) {
  const res = await fetch(`${server.url}/mcp`, {
    method: 'POST',
    headers: { ...headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function auditSize(): Promise<number> {
  const res = await fetch(`${server.url}/v1/audit/entries?start=0&end=0`, { headers: { authorization: `Bearer ${ws.tokens.carol}` } });
  return ((await res.json()) as { size: number }).size;
}

/** The JSON-RPC messages of a 200 answer: one JSON body, or the `data:` lines of an SSE stream. */
function messagesOf(a: { type: string; text: string }): unknown[] {
  if (a.text.trim() === '') return [];
  if (a.type.startsWith('text/event-stream')) {
    return a.text
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => JSON.parse(l.slice(5)) as unknown);
  }
  const v = JSON.parse(a.text) as unknown;
  return Array.isArray(v) ? v : [v];
}

const json = fc.jsonValue({ maxDepth: 3 });
const toolName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('notes__read_note', 'notes__write_note', 'notes__delete_note', 'notes__whoami') },
  { weight: 2, arbitrary: fc.constantFrom('notes__', '__read_note', 'notes', 'notes____read_note', 'notes__read_note ', 'NOTES__read_note', 'other__read_note', 'notes__read_note\u0000', 'notes__\u202eeton_daer', `notes__${'x'.repeat(300)}`, '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: json },
);
const args = fc.oneof(
  { weight: 4, arbitrary: fc.record({ name: fc.oneof(fc.constantFrom('a', 'secret', '', '__proto__', 'constructor'), fc.string({ maxLength: 20 }), json), text: fc.string({ maxLength: 20 }) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), json, { maxKeys: 4 }) },
  { weight: 1, arbitrary: json },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, [], 'x', 1) },
);
const id = fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.constantFrom(null, true, 1.5, [], {}, -0, 1e300, undefined));
const params = (method: string) => {
  switch (method) {
    case 'initialize':
      return fc.record({ protocolVersion: fc.constantFrom('2025-06-18', '2025-03-26', '2024-11-05', '1999-01-01', '', 7), capabilities: fc.oneof(fc.constant({}), json), clientInfo: fc.oneof(fc.constant({ name: 'fuzz', version: '1' }), json) }, { requiredKeys: [] });
    case 'tools/call':
      return fc.record({ name: toolName, arguments: args, _meta: fc.oneof(fc.constant(undefined), fc.record({ progressToken: fc.oneof(fc.string(), fc.integer(), json) })) }, { requiredKeys: [] });
    default:
      return fc.oneof(fc.constant({}), json);
  }
};
const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('initialize', 'tools/list', 'tools/call', 'tools/call', 'tools/call') },
  { weight: 2, arbitrary: fc.constantFrom('ping', 'notifications/initialized', 'notifications/cancelled', 'resources/list', 'prompts/get', 'completion/complete', 'logging/setLevel', 'sampling/createMessage', 'tools/List', 'rpc.discover', '', '__proto__') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
/** One message: valid-looking, then possibly one field dropped, retyped or replaced. */
const message = method.chain((m) =>
  fc.record({
    jsonrpc: fc.oneof({ weight: 8, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: fc.constantFrom('1.0', '2', 2, null, undefined, '2.0 ') }),
    id,
    method: fc.constant(m as unknown),
    params: fc.oneof({ weight: 6, arbitrary: params(m) }, { weight: 1, arbitrary: fc.constantFrom(undefined, null, [], 'x') }),
  }),
);

/** Params nested `depth` levels deep, inside the arguments of an otherwise valid call. */
const deep = fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom('[', '{"a":')).map(([n, open]) => {
  const close = open === '[' ? ']' : '}';
  return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"notes__read_note","arguments":{"name":"a","x":${open.repeat(n)}1${close.repeat(n)}}}}`;
});

const body = fc.oneof(
  { weight: 8, arbitrary: message.map((m) => JSON.stringify(m)) },
  // batches, including empty and over-long ones
  { weight: 2, arbitrary: fc.array(message, { maxLength: 5 }).map((ms) => JSON.stringify(ms)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2000 }).map((n) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' })))) },
  // deep nesting (the depth is chosen so some stay under the body limit and some go past the parser's patience)
  { weight: 1, arbitrary: deep },
  // a huge argument around the body limit
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 1_100_000 }).map((n) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'notes__read_note', arguments: { name: 'x'.repeat(n) } } })) },
  // broken JSON: cut short, or a byte replaced
  { weight: 2, arbitrary: fc.tuple(message.map((m) => JSON.stringify(m)), fc.nat(), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })).map(([t, i, c]) => (i % 2 ? t.slice(0, i % t.length) : t.slice(0, i % t.length) + c + t.slice((i % t.length) + 1))) },
  { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '{}', '"x"', '1e400', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"notes__read_note","name":"notes__delete_note","arguments":{"name":"a"}}}', '{"__proto__":{"method":"tools/call"},"jsonrpc":"2.0","id":1}', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"notes__read_note","arguments":{"__proto__":{"name":"secret"}}}}') },
);

const headers = fc.record({
  contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', '') }),
  accept: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json, text/event-stream') }, { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/event-stream', '*/*', '', 'text/html') }),
  session: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('abc', '', '00000000-0000-0000-0000-000000000000', 'x'.repeat(500)) }),
  protocol: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('2025-06-18', '2025-03-26', '1999-01-01', 'latest', '') }),
  auth: fc.constantFrom('agent', 'agent', 'agent', 'agent', 'agent', 'none', 'garbage', 'human'),
});

const cases = fc.record({ body, headers }).map((c) => ({
  ...c,
  // A failing case is reported short: the body's size and first characters, not a megabyte of them.
  [fc.toStringMethod]: () => `{headers: ${JSON.stringify(c.headers)}, ${c.body.length} chars: ${JSON.stringify(c.body.slice(0, 300))}}`,
}));

describe('the MCP endpoint under fuzzed JSON-RPC', () => {
  it('never answers 5xx or drops the connection; errors carry documented codes; a refusal changes nothing and reaches no upstream tool', async () => {
    const seen = new Map<string, number>();
    const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const h: Record<string, string> = {};
        if (c.headers.contentType) h['content-type'] = c.headers.contentType;
        if (c.headers.accept) h.accept = c.headers.accept;
        if (c.headers.session !== undefined) h['mcp-session-id'] = c.headers.session;
        if (c.headers.protocol !== undefined) h['mcp-protocol-version'] = c.headers.protocol;
        const token = { agent: ws.tokens.agent, none: undefined, garbage: 'garbage-token', human: ws.tokens.alice }[c.headers.auth];
        const before = { audit: await auditSize(), calls: callsIn(notesDir).length };
        const a = await post(c.body, h, token);
        expect(a.status, a.text).toBeLessThan(500);
        let actions = 0;
        let refused: boolean;
        if (a.status >= 400) {
          refused = true;
          const v = JSON.parse(a.text) as { error?: { code?: unknown } };
          if (typeof v.error?.code === 'number') {
            count(`http ${a.status} rpc ${v.error.code}`);
            expect(JSONRPC_CODES, a.text).toContain(v.error.code);
          } else {
            const code = v.error?.code as keyof typeof ERROR_CODES;
            count(`http ${a.status} ${code}`);
            expect(Object.keys(ERROR_CODES), a.text).toContain(code);
            expect(a.status, a.text).toBe(ERROR_CODES[code].status);
          }
        } else {
          expect([200, 202], a.text).toContain(a.status);
          for (const m of messagesOf(a) as Array<{ error?: { code: number }; result?: { isError?: boolean; content?: Array<{ text?: string }>; _meta?: Record<string, unknown> } }>) {
            if (m.error) {
              count(`rpc ${m.error.code}`);
              expect(JSONRPC_CODES, a.text).toContain(m.error.code);
              continue;
            }
            const text = (m.result?.content ?? []).map((x) => x.text ?? '').join('\n');
            const refusal = /^Countersign refused this call \[([A-Z_]+)\]/.exec(text);
            if (refusal) {
              count('refused');
              count(`refused ${refusal[1]}`);
              expect(Object.keys(ERROR_CODES), text).toContain(refusal[1]);
              expect(refusal[1], text).not.toBe('INTERNAL');
            } else if (Array.isArray(m.result?.content)) {
              // A tools/call the gateway took: an action was decided (and, if allowed, ran).
              actions++;
              count(m.result.isError ? 'action refused or failed' : 'action ran');
            } else count('result');
          }
          refused = actions === 0;
        }
        const after = { audit: await auditSize(), calls: callsIn(notesDir) };
        if (refused) {
          expect(after.audit, `a refusal changed the log: ${a.text.slice(0, 500)}`).toBe(before.audit);
          expect(after.calls.length, `a refusal reached the upstream: ${a.text.slice(0, 500)}`).toBe(before.calls);
        }
        // Whatever was asked, the upstream ran at most one allowed read per action.
        const ran = after.calls.slice(before.calls);
        expect(ran.length).toBeLessThanOrEqual(actions);
        for (const r of ran) {
          expect(r.tool).toBe('read_note');
          expect(r.args.name).not.toBe('secret');
        }
      }),
      { numRuns: RUNS, ...SEED },
    );
    // The run reached what it is meant to probe: calls that ran, refusals, and transport errors.
    for (const k of ['action ran', 'refused', 'rpc -32602']) expect(seen.get(k) ?? 0, `${k} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 300_000);
});
