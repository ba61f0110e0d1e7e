import type { ServerResponse } from 'node:http';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { JSONRPCRequestSchema, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../domain/identity.js';

/**
 * `tools/call` over stateless Streamable HTTP, served by ONE SDK `Server` for every
 * caller. The SDK's own HTTP transport builds a Server, a transport, a web `Request`,
 * a `ReadableStream` and a keep-alive timer per POST, and a call held for review keeps
 * all of them alive for minutes: about 60 KB per held call (docs/reliability.md, many
 * waiters). Here a call is a small record (its caller, its JSON-RPC id, its response)
 * keyed by an id of our own, which is the id the shared Server sees; the SDK's Server
 * still parses, validates, dispatches and answers the request.
 *
 * Only a single `tools/call` request whose headers the SDK transport would accept comes
 * here (`accepts`); everything else (initialize, tools/list, notifications, batches, bad
 * headers) still goes through the SDK's transport, which answers it as before.
 */
export interface McpCallChannel {
  /** Whether this POST is one `tools/call` request with headers the SDK transport accepts. */
  accepts(headers: Record<string, string | string[] | undefined>, body: unknown): body is JSONRPCRequest;
  /** Answers the call on `res` as an SSE stream (progress notifications, then the result). */
  serve(who: Principal, request: JSONRPCRequest, res: ServerResponse): void;
  /** The caller of a call the shared Server is handling (by the id the Server sees). */
  principalOf(requestId: RequestId): Principal;
  /** Calls open now (tests). */
  size(): number;
  close(): Promise<void>;
}

interface OpenCall {
  /** The caller's own JSON-RPC id, restored on everything sent back. */
  id: RequestId;
  who: Principal;
  res: ServerResponse;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};
/** As the SDK transport: a comment line now and then keeps proxies from closing an idle held call. */
const KEEP_ALIVE_MS = 15_000;
/** Keep-alives written per turn of the event loop. */
const KEEP_ALIVE_SLICE = 500;

function header(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(', ') : h;
}

export async function createMcpCallChannel(makeServer: (principalOf: (requestId: RequestId) => Principal) => Server): Promise<McpCallChannel> {
  const calls = new Map<number, OpenCall>();
  let next = 0;

  function write(call: OpenCall, message: JSONRPCMessage): void {
    if (!call.res.writableEnded) call.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  const transport: Transport = {
    async start() {},
    async close() {
      for (const call of calls.values()) call.res.end();
      calls.clear();
    },
    async send(message, options) {
      if ('id' in message && !('method' in message)) {
        // A response (result or error): the call's answer; its stream ends with it.
        const key = message.id as number;
        const call = calls.get(key);
        if (!call) return;
        calls.delete(key);
        write(call, { ...message, id: call.id });
        call.res.end();
        return;
      }
      // A notification (progress) about one call: on that call's stream.
      const related = options?.relatedRequestId;
      const call = related === undefined ? undefined : calls.get(related as number);
      if (call) write(call, message);
    },
  };

  const principalOf = (requestId: RequestId): Principal => {
    const call = calls.get(requestId as number);
    if (!call) throw new Error('the call is no longer open');
    return call.who;
  };
  const server = makeServer(principalOf);
  await server.connect(transport);

  // One timer for every open call, written a slice at a time.
  const keepAlive = setInterval(() => {
    const open = [...calls.values()];
    const step = (from: number) => {
      for (const call of open.slice(from, from + KEEP_ALIVE_SLICE)) if (!call.res.writableEnded) call.res.write(': keepalive\n\n');
      if (from + KEEP_ALIVE_SLICE < open.length) setImmediate(step, from + KEEP_ALIVE_SLICE);
    };
    step(0);
  }, KEEP_ALIVE_MS);
  keepAlive.unref();

  return {
    accepts(headers, body): body is JSONRPCRequest {
      const accept = header(headers.accept);
      if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return false;
      if (!isJsonContentType(header(headers['content-type']) ?? '')) return false;
      const version = header(headers['mcp-protocol-version']);
      if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return false;
      return typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'tools/call' && JSONRPCRequestSchema.safeParse(body).success;
    },

    serve(who, request, res) {
      const key = ++next;
      const call: OpenCall = { id: request.id, who, res };
      calls.set(key, call);
      res.writeHead(200, SSE_HEADERS);
      res.flushHeaders();
      res.once('close', () => {
        // The caller hung up before the answer: the Server aborts the handler (its signal).
        if (calls.delete(key)) transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: key, reason: 'the client closed the connection' } });
      });
      transport.onmessage?.({ ...request, id: key });
    },

    principalOf,
    size: () => calls.size,
    async close() {
      clearInterval(keepAlive);
      await server.close();
    },
  };
}
