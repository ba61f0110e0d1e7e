import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';
import { authHook, principalOf } from '../http/auth.js';
import type { Authenticator } from '../ports/authenticator.js';
import { createMcpCallChannel } from './mcp-call-channel.js';
import type { McpGateway } from './mcp-gateway.js';
import { createMcpServer } from './mcp-server.js';

/**
 * The gateway over Streamable HTTP at /mcp, stateless: every POST carries the caller's
 * bearer token and gets its own server, so no session lives in memory. Held calls
 * answer as an SSE stream with progress notifications.
 */
export function mcpHttpRoutes(deps: { gateway: McpGateway; authenticator: Authenticator }) {
  return async (app: FastifyInstance): Promise<void> => {
    // tools/call (held for review, maybe for minutes) shares one server: a held call costs a small record.
    const calls = await createMcpCallChannel((callerOf) => createMcpServer(deps.gateway, callerOf, { listChanged: false }));
    app.addHook('onClose', () => calls.close());
    app.addHook('onRequest', authHook(deps.authenticator));
    app.post('/mcp', { schema: { hide: true } }, async (req, reply) => {
      const who = principalOf(req);
      if (calls.accepts(req.headers, req.body)) {
        reply.hijack();
        calls.serve(who, req.body, reply.raw);
        return;
      }
      const server = createMcpServer(deps.gateway, who, { listChanged: false });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      reply.hijack();
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      try {
        await server.connect(transport);
        await transport.handleRequest(req.raw, reply.raw, req.body);
      } catch (e) {
        req.log.error({ err: e }, 'MCP request failed');
        if (!reply.raw.headersSent) {
          reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'INTERNAL', message: 'Internal error' } }));
        } else reply.raw.end();
      }
    });
    const notAllowed = async () => {
      throw new AppError('METHOD_NOT_ALLOWED', 'This MCP endpoint is stateless: only POST');
    };
    app.get('/mcp', { schema: { hide: true } }, notAllowed);
    app.delete('/mcp', { schema: { hide: true } }, notAllowed);
  };
}
