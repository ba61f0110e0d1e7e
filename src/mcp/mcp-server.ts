import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { Principal } from '../domain/identity.js';
import { VERSION } from '../version.js';
import type { McpGateway } from './mcp-gateway.js';
import { guardRequestParams } from './mcp-request-guard.js';

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

/** A Server that answers requests with malformed params -32602, never -32603 (mcp-request-guard.ts). */
class GatewayServer extends Server {
  override async connect(transport: Transport): Promise<void> {
    await super.connect(transport);
    guardRequestParams(transport);
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
