import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../config/agents-schema.js';
import { parseDuration } from '../domain/duration.js';
import { VERSION } from '../version.js';

/** One upstream MCP server, connected on first use and again after its connection drops. */
export interface McpUpstream {
  readonly name: string;
  /** Every tool, all pages. */
  listTools(signal?: AbortSignal): Promise<Tool[]>;
  callTool(tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult>;
  /** Called when the server says its tool list changed. */
  onToolsChanged(listener: () => void): void;
  /** The configured timeout of one call, in ms. */
  readonly timeoutMs: number;
}

export interface McpUpstreams {
  get(name: string): McpUpstream | undefined;
  names(): string[];
  close(): Promise<void>;
}

const MAX_PAGES = 100;

function transportFor(s: McpServerConfig): Transport {
  if ('url' in s) return new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers: s.headers } });
  // Only the SDK's safe default variables plus the configured ones: the gateway's own
  // environment (agent tokens, other credentials) never reaches an upstream process.
  return new StdioClientTransport({
    command: s.command,
    args: s.args,
    env: { ...getDefaultEnvironment(), ...s.env },
    ...(s.cwd ? { cwd: s.cwd } : {}),
    stderr: 'inherit',
  });
}

function createUpstream(name: string, config: McpServerConfig): McpUpstream & { close(): Promise<void> } {
  let connecting: Promise<Client> | undefined;
  const listeners: Array<() => void> = [];
  const timeoutMs = parseDuration(config.timeout);

  function connect(): Promise<Client> {
    connecting ??= (async () => {
      const client = new Client({ name: 'countersign-gateway', version: VERSION }, { capabilities: {} });
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        for (const l of listeners) l();
      });
      client.onclose = () => {
        connecting = undefined;
      };
      try {
        await client.connect(transportFor(config));
      } catch (e) {
        connecting = undefined;
        await client.close().catch(() => undefined);
        throw e;
      }
      return client;
    })();
    return connecting;
  }

  return {
    name,
    timeoutMs,
    async listTools(signal) {
      const client = await connect();
      const tools: Tool[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const r = await client.listTools(cursor ? { cursor } : {}, { ...(signal ? { signal } : {}), timeout: timeoutMs });
        tools.push(...r.tools);
        cursor = r.nextCursor;
        if (!cursor) break;
      }
      return tools;
    },
    async callTool(tool, args, signal) {
      const client = await connect();
      return (await client.callTool({ name: tool, arguments: args }, undefined, { ...(signal ? { signal } : {}), timeout: timeoutMs })) as CallToolResult;
    },
    onToolsChanged(listener) {
      listeners.push(listener);
    },
    async close() {
      const c = connecting;
      connecting = undefined;
      if (c) await c.then((client) => client.close()).catch(() => undefined);
    },
  };
}

export function createMcpUpstreams(servers: Record<string, McpServerConfig>): McpUpstreams {
  const map = new Map(Object.entries(servers).map(([name, s]) => [name, createUpstream(name, s)]));
  return {
    get: (name) => map.get(name),
    names: () => [...map.keys()],
    async close() {
      await Promise.allSettled([...map.values()].map((u) => u.close()));
    },
  };
}
