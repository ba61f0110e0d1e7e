import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it, vi } from 'vitest';
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

describe('requests go straight to the SDK\'s dispatch, tools/call keeps the SDK\'s behaviour', () => {
  const who = { id: 'deploy-bot', type: 'agent', owner: 'carol@example.com', labels: {} } as never;

  /** Something that happens once, and a promise of it. */
  function moment(): { came: Promise<void>; come: () => void } {
    let come!: () => void;
    const came = new Promise<void>((r) => (come = r));
    return { came, come };
  }

  async function connected(gw: Partial<McpGateway>): Promise<Client> {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = createMcpServer({ listTools: async () => [], ...gw } as McpGateway, who, { listChanged: false });
    await server.connect(serverSide);
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(clientSide);
    return client;
  }

  it('the SDK still has the dispatch this server calls (else every message would take the slower path unnoticed)', () => {
    const server = createMcpServer(gateway, who, { listChanged: false });
    expect(typeof (server as unknown as { _onrequest?: unknown })._onrequest).toBe('function');
  });

  it('a tools/call sent by the SDK client is answered, its progress notifications first, with the caller\'s token', async () => {
    const client = await connected({
      callTool: async (_who, name, args, opts) => {
        await opts?.progress?.(1000, 5000, 'held');
        return { content: [{ type: 'text', text: `${name} ${JSON.stringify(args)}` }] };
      },
    });
    const progress: unknown[] = [];
    const r = await client.callTool({ name: 'notes__read_note', arguments: { name: 'n' } }, undefined, { onprogress: (p) => progress.push(p) });
    expect(r.content).toEqual([{ type: 'text', text: 'notes__read_note {"name":"n"}' }]);
    expect(progress).toEqual([{ progress: 1000, total: 5000, message: 'held' }]);
    await client.close();
  });

  it('a call the client cancels aborts the gateway\'s call, and no answer is sent for it', async () => {
    const started = moment();
    const aborted = moment();
    const client = await connected({
      callTool: (_who, name, _args, opts) =>
        name === 'notes__hold'
          ? new Promise((resolve) => {
              started.come();
              opts?.signal?.addEventListener('abort', () => {
                aborted.come();
                resolve({ content: [{ type: 'text', text: 'too late' }] });
              });
            })
          : Promise.resolve({ content: [{ type: 'text', text: 'ok' }] }),
    });
    const errors: Error[] = [];
    client.onerror = (e) => errors.push(e);
    const stop = new AbortController();
    const call = client.callTool({ name: 'notes__hold', arguments: {} }, undefined, { signal: stop.signal });
    await started.came;
    stop.abort('changed my mind');
    await expect(call).rejects.toThrow(/changed my mind/);
    await aborted.came;
    // The next call is answered; an answer to the cancelled one would have come first (the client reports those).
    expect((await client.callTool({ name: 'notes__x', arguments: {} })).content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(errors).toEqual([]);
    await client.close();
  });

  it('a call still open when the connection closes is aborted', async () => {
    const started = moment();
    const aborted = moment();
    const client = await connected({
      callTool: (_who, _name, _args, opts) =>
        new Promise(() => {
          started.come();
          opts?.signal?.addEventListener('abort', () => aborted.come());
        }),
    });
    const call = client.callTool({ name: 'notes__hold', arguments: {} });
    await started.came;
    await client.close();
    await expect(call).rejects.toThrow(/Connection closed/);
    await aborted.came;
  });

  it('a task-augmented call is left to the SDK, which refuses it (the gateway declares no tasks); one related to a task is served by it too', async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createMcpServer(gateway, who, { listChanged: false }).connect(serverSide);
    const answers: JSONRPCMessage[] = [];
    clientSide.onmessage = (m) => answers.push(m);
    await clientSide.start();
    await clientSide.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'notes__x', task: { ttl: 1000 } } });
    await clientSide.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'notes__x', _meta: { 'io.modelcontextprotocol/related-task': { taskId: 't' } } } });
    await vi.waitFor(() => expect(answers).toHaveLength(2));
    expect(answers).toContainEqual({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'Server does not support task creation (required for tools/call)' } });
    expect(answers).toContainEqual({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'ran' }] } });
  });

  it('a failing call answers a JSON-RPC error as the SDK does (its code when it has one, -32603 otherwise)', async () => {
    const client = await connected({
      callTool: async () => {
        throw new Error('the store is down');
      },
    });
    const failed = await client.callTool({ name: 'notes__read_note', arguments: {} }).then(
      () => undefined,
      (e: unknown) => e as { code?: number; message?: string },
    );
    expect(failed?.code).toBe(-32603);
    expect(failed?.message).toContain('the store is down');
    await client.close();
  });

  it('a message that is not a request (a notification, a request with a member JSON-RPC does not define) is left to the SDK\'s handler', async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = createMcpServer(gateway, who, { listChanged: false });
    const errors: Error[] = [];
    server.onerror = (e) => errors.push(e);
    await server.connect(serverSide);
    const answers: JSONRPCMessage[] = [];
    clientSide.onmessage = (m) => answers.push(m);
    await clientSide.start();
    await clientSide.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await clientSide.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'notes__x' }, extra: true } as unknown as JSONRPCMessage);
    await clientSide.send({ jsonrpc: '2.0', id: 10, method: 'ping' });
    await clientSide.send({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'notes__x' } });
    // Had id 9 been taken as a call, its answer would be here by the time 11's (sent after it, served the same way) is.
    await vi.waitFor(() => expect(answers.some((a) => 'id' in a && a.id === 11)).toBe(true));
    expect(answers.map((a) => ('id' in a ? a.id : undefined)).sort()).toEqual([10, 11]);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^Unknown message type/)]);
  });
});
