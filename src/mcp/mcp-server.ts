import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AnyObjectSchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import { getMethodLiteral } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { CallToolRequestSchema, isJSONRPCRequest, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { Principal } from '../domain/identity.js';
import { VERSION } from '../version.js';
import type { McpGateway } from './mcp-gateway.js';
import { checked, methodOnly } from './mcp-request-guard.js';

const INSTRUCTIONS =
  'Tools are those of upstream servers, named <server>__<tool>, behind Countersign: calls may be denied, or held for human approval. ' +
  'A result saying "Approval pending" means the call has not run: call the same tool again with exactly the same arguments to get its outcome.';

/**
 * One JSON Schema validator for every server: the SDK otherwise builds a new Ajv
 * instance per Server (about 25 KB of heap), and stateless HTTP builds a Server per
 * request, so each held tools/call kept one alive (docs/reliability.md, many waiters).
 * The SDK uses it only to check elicitation answers, which the gateway never requests.
 */
let validator: AjvJsonSchemaValidator | undefined;

type Handler<T extends AnyObjectSchema> = Parameters<Server['setRequestHandler']>[1] extends (r: never, extra: infer E) => infer R ? (request: SchemaOutput<T>, extra: E) => R : never;

/**
 * A Server that parses each request once and answers params that do not fit -32602,
 * never -32603 (mcp-request-guard.ts). Handlers are registered on the Protocol itself,
 * past Server's tools/call wrapper, which parsed the request a second time and the
 * result a third: results are the gateway's own, or an upstream's that its client parsed.
 */
class GatewayServer extends Server {
  override setRequestHandler<T extends AnyObjectSchema>(schema: T, handler: Handler<T>): void {
    const method = getMethodLiteral(schema);
    const register = Protocol.prototype.setRequestHandler as (this: Server, schema: AnyObjectSchema, handler: (request: unknown, extra: unknown) => unknown) => void;
    register.call(this, methodOnly(method), (request, extra) => (handler as (r: unknown, e: unknown) => unknown)(checked(method, schema, request), extra));
  }

  override async connect(transport: Transport): Promise<void> {
    const earlier = transport.onmessage;
    await super.connect(transport);
    const dispatch = transport.onmessage;
    const onrequest = (this as unknown as { _onrequest?: unknown })._onrequest;
    // Only as the handler was: no handler of the transport's own before it, and the SDK's dispatch where it was.
    if (earlier || !dispatch || typeof onrequest !== 'function') return;
    transport.onmessage = (message, extra) => {
      if (isJSONRPCRequest(message)) (onrequest as (m: unknown, e: unknown) => void).call(this, message, extra);
      else dispatch(message, extra);
    };
  }
}

/**
 * An MCP server speaking for one caller (the identity behind its token), or for many
 * when `who` finds the caller of each request (mcp-call-channel.ts). `listChanged`
 * only where the gateway sends the notification: over stdio, not on stateless HTTP.
 */
export function createMcpServer(gateway: McpGateway, who: Principal | ((requestId: RequestId) => Principal), opts: { listChanged: boolean }): Server {
  const callerOf = typeof who === 'function' ? who : () => who;
  const server = new GatewayServer({ name: 'countersign', version: VERSION }, {
    capabilities: { tools: { listChanged: opts.listChanged } },
    instructions: INSTRUCTIONS,
    jsonSchemaValidator: (validator ??= new AjvJsonSchemaValidator()),
  });
  server.setRequestHandler(ListToolsRequestSchema, async (_req, extra) => ({ tools: await gateway.listTools(callerOf(extra.requestId), extra.signal) }));
  // The SDK's own request handling serves tools/call (cancellation, progress, errors, tasks):
  // serving it by hand saved a few µs per call and about 100 bytes per held call, too little
  // for a second implementation of the protocol to keep in step with the SDK.
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const token = req.params._meta?.progressToken;
    const progress =
      token === undefined
        ? undefined
        : (elapsed: number, total: number, message: string) =>
            extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: elapsed, total, message } });
    return gateway.callTool(callerOf(extra.requestId), req.params.name, req.params.arguments ?? {}, { signal: extra.signal, progress });
  });
  return server;
}
