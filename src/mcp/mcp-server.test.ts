import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { McpGateway } from './mcp-gateway.js';
import { createMcpServer } from './mcp-server.js';

const gateway = {
  listTools: async () => [],
  callTool: async () => ({ content: [{ type: 'text', text: 'ran' }] }),
} as unknown as McpGateway;

/** Sends one raw message to a fresh server and returns its answer. */
async function answerTo(message: unknown): Promise<JSONRPCMessage> {
  const [client, server] = InMemoryTransport.createLinkedPair();
  await createMcpServer(gateway, { id: 'deploy-bot', type: 'agent', owner: 'carol@example.com', labels: {} } as never, { listChanged: false }).connect(server);
  const answer = new Promise<JSONRPCMessage>((resolve) => (client.onmessage = resolve));
  await client.start();
  await client.send(message as JSONRPCMessage);
  return answer;
}

describe('the MCP server facing agents', () => {
  it('answers a request whose params do not fit its method with -32602 Invalid params, not an internal error (found by mcp-fuzz)', async () => {
    for (const [method, params] of [
      ['initialize', {}],
      ['initialize', { protocolVersion: 7, capabilities: {}, clientInfo: { name: 'x', version: '1' } }],
      ['tools/list', { cursor: 5 }],
      ['tools/call', { name: 5 }],
    ] as const) {
      const a = (await answerTo({ jsonrpc: '2.0', id: 1, method, params })) as { id: number; error?: { code: number; message: string } };
      expect(a.id).toBe(1);
      expect(a.error?.code, `${method} ${JSON.stringify(params)}`).toBe(-32602);
      expect(a.error?.message).toMatch(new RegExp(`^Invalid params for ${method}: params`));
    }
  });

  it('still answers well-formed requests', async () => {
    const init = (await answerTo({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } })) as { result?: { serverInfo?: { name: string } } };
    expect(init.result?.serverInfo?.name).toBe('countersign');
    const call = (await answerTo({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'notes__read_note', arguments: {} } })) as { result?: unknown };
    expect(call.result).toEqual({ content: [{ type: 'text', text: 'ran' }] });
  });
});
