import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '../domain/identity.js';
import type { McpCallChannel } from './mcp-call-channel.js';
import { createMcpCallChannel } from './mcp-call-channel.js';

const agent = (id: string): Principal => ({ type: 'agent', id, owner: 'o@example.com', labels: {} });
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const call = (id: number | string, name: string, progressToken?: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: {}, ...(progressToken ? { _meta: { progressToken } } : {}) },
});

/** A held call: resolved by the test; aborted when its caller hangs up. */
interface Held {
  who: Principal;
  release: (text: string) => void;
  aborted: Promise<void>;
  progress: () => Promise<void>;
}

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** The channel behind a plain HTTP server; the caller is named by its `x-who` header (the route authenticates). */
async function start() {
  const held: Held[] = [];
  const arrived: (() => void)[] = [];
  const channel: McpCallChannel = await createMcpCallChannel((principalOf) => {
    const server = new Server({ name: 't', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(CallToolRequestSchema, (req, extra) => {
      const who = principalOf(extra.requestId);
      return new Promise((resolve) => {
        const token = req.params._meta?.progressToken;
        held.push({
          who,
          release: (text) => resolve({ content: [{ type: 'text', text: `${text} for ${who.id}` }] }),
          aborted: new Promise((r) => extra.signal.addEventListener('abort', () => r())),
          progress: () => extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token!, progress: 1, total: 2 } }),
        });
        arrived.shift()?.();
      });
    });
    return server;
  });
  const http = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed: unknown = JSON.parse(body);
      if (!channel.accepts(req.headers, parsed)) {
        res.writeHead(418).end();
        return;
      }
      channel.serve(agent(String(req.headers['x-who'])), parsed, res);
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  stop = async () => {
    await channel.close();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  };
  const nextArrival = () => new Promise<void>((r) => arrived.push(r));
  return { channel, held, url, nextArrival };
}

/** The SSE events of a response body, parsed. */
function events(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
}

describe('the shared tools/call channel', () => {
  it('two callers using the same JSON-RPC id each get their own answer, with their own id, from their own identity', async () => {
    const { held, url, nextArrival, channel } = await start();
    const first = nextArrival();
    const a = fetch(url, { method: 'POST', headers: { ...HEADERS, 'x-who': 'alpha' }, body: JSON.stringify(call(1, 'x')) });
    await first;
    const second = nextArrival();
    const b = fetch(url, { method: 'POST', headers: { ...HEADERS, 'x-who': 'beta' }, body: JSON.stringify(call(1, 'x')) });
    await second;
    expect(channel.size()).toBe(2);
    expect(held.map((h) => h.who.id)).toEqual(['alpha', 'beta']);
    held[1]!.release('done');
    held[0]!.release('done');
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.headers.get('content-type')).toBe('text/event-stream');
    expect(events(await ra.text())).toEqual([{ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'done for alpha' }] } }]);
    expect(events(await rb.text())).toEqual([{ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'done for beta' }] } }]);
    expect(channel.size()).toBe(0);
  });

  it('a progress notification goes to the stream of its own call only', async () => {
    const { held, url, nextArrival } = await start();
    let arrival = nextArrival();
    const a = fetch(url, { method: 'POST', headers: { ...HEADERS, 'x-who': 'alpha' }, body: JSON.stringify(call('a', 'x', 'tok-a')) });
    await arrival;
    arrival = nextArrival();
    const b = fetch(url, { method: 'POST', headers: { ...HEADERS, 'x-who': 'beta' }, body: JSON.stringify(call('b', 'x', 'tok-b')) });
    await arrival;
    await held[0]!.progress();
    held[0]!.release('ok');
    held[1]!.release('ok');
    const ea = events(await (await a).text());
    const eb = events(await (await b).text());
    expect(ea.map((e) => e.method ?? e.id)).toEqual(['notifications/progress', 'a']);
    expect((ea[0]!.params as { progressToken: string }).progressToken).toBe('tok-a');
    expect(eb.map((e) => e.method ?? e.id)).toEqual(['b']);
  });

  it('a caller that hangs up aborts its held call, and nothing is left open', async () => {
    const { held, url, nextArrival, channel } = await start();
    const arrival = nextArrival();
    const ac = new AbortController();
    const a = fetch(url, { method: 'POST', headers: { ...HEADERS, 'x-who': 'alpha' }, body: JSON.stringify(call(7, 'x')), signal: ac.signal });
    await arrival;
    const res = await a;
    ac.abort();
    await res.text().catch(() => undefined);
    await held[0]!.aborted;
    expect(channel.size()).toBe(0);
  });

  it('takes only one tools/call request with headers the SDK transport accepts; everything else is left to it', async () => {
    const { channel } = await start();
    const ok = call(1, 'x');
    expect(channel.accepts(HEADERS, ok)).toBe(true);
    expect(channel.accepts({ ...HEADERS, 'content-type': 'application/json; charset=utf-8', 'mcp-protocol-version': '2025-06-18' }, ok)).toBe(true);
    expect(channel.accepts({ ...HEADERS, accept: 'application/json' }, ok)).toBe(false);
    expect(channel.accepts({ ...HEADERS, 'content-type': 'text/plain' }, ok)).toBe(false);
    expect(channel.accepts({ ...HEADERS, 'mcp-protocol-version': '1999-01-01' }, ok)).toBe(false);
    expect(channel.accepts(HEADERS, [ok])).toBe(false);
    expect(channel.accepts(HEADERS, { ...ok, method: 'tools/list' })).toBe(false);
    expect(channel.accepts(HEADERS, { jsonrpc: '2.0', method: 'tools/call', params: {} })).toBe(false);
    expect(channel.accepts(HEADERS, { ...ok, jsonrpc: '1.0' })).toBe(false);
  });
});
