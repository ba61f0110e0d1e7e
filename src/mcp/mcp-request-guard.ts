import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, ErrorCode, InitializeRequestSchema, isJSONRPCRequest, ListToolsRequestSchema, PingRequestSchema } from '@modelcontextprotocol/sdk/types.js';

interface Issue {
  path: PropertyKey[];
  message: string;
}
interface Schema {
  safeParse(v: unknown): { success: true } | { success: false; error: { issues: Issue[] } };
}

/** The requests the gateway's server answers, with the schema the SDK parses their params with. */
const SCHEMAS = new Map<string, Schema>([
  ['initialize', InitializeRequestSchema],
  ['ping', PingRequestSchema],
  ['tools/list', ListToolsRequestSchema],
  ['tools/call', CallToolRequestSchema],
]);

/**
 * Requests whose params do not fit their method answer -32602 (Invalid params) from
 * here. The SDK parses params before its handlers and its parse error carries no
 * JSON-RPC code, so it answered -32603 (Internal error) with the whole parse dump: a
 * client's mistake reported as the gateway failing (found by test/e2e/mcp-fuzz.test.ts).
 * Installed after the server connected the transport, in front of its handler.
 */
export function guardRequestParams(transport: Transport): void {
  const deliver = transport.onmessage;
  if (!deliver) return;
  transport.onmessage = (message, extra) => {
    const schema = isJSONRPCRequest(message) ? SCHEMAS.get(message.method) : undefined;
    const parsed = schema?.safeParse(message);
    if (isJSONRPCRequest(message) && parsed && !parsed.success) {
      const first = parsed.error.issues[0];
      const where = first ? `${first.path.map(String).join('.') || '(the request)'}: ${first.message}` : 'invalid';
      void transport.send({ jsonrpc: '2.0', id: message.id, error: { code: ErrorCode.InvalidParams, message: `Invalid params for ${message.method}: ${where}` } }).catch(() => undefined);
      return;
    }
    deliver.call(transport, message, extra);
  };
}
