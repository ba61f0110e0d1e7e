import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI } from './harness.js';
import type { Workspace } from './harness.js';

export const NOTES_SERVER = fileURLToPath(new URL('../mcp/notes-server.mjs', import.meta.url));
export const FILESYSTEM_SERVER = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', import.meta.url));

/** The test notes server over Streamable HTTP, as its own process. */
export async function startNotesHttp(dir: string): Promise<{ url: string; child: ChildProcess; stop(): void }> {
  mkdirSync(dir, { recursive: true });
  const portFile = join(dir, 'port');
  const child = spawn(process.execPath, [NOTES_SERVER, '--http', portFile], { env: { ...process.env, NOTES_DIR: dir }, stdio: 'inherit' });
  const deadline = Date.now() + 10_000;
  while (!existsSync(portFile) || !readFileSync(portFile, 'utf8')) {
    if (Date.now() > deadline) throw new Error('notes server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${readFileSync(portFile, 'utf8')}/mcp`, child, stop: () => void child.kill() };
}

export function callsIn(dir: string): Array<{ tool: string; args: Record<string, unknown> }> {
  const f = join(dir, 'calls.log');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { tool: string; args: Record<string, unknown> });
}

/** A real MCP client of the SDK, talking to `serve` over Streamable HTTP at /mcp. */
export async function httpMcpClient(serverUrl: string, token: string): Promise<Client> {
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${serverUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

/** A real MCP client of the SDK that spawns `countersign mcp` and talks over stdio. */
export async function stdioMcpClient(ws: Workspace, token: string): Promise<Client> {
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp', '--config', ws.configPath],
      env: { PATH: process.env.PATH ?? '', ...(ws.env as Record<string, string>), COUNTERSIGN_TOKEN: token },
      stderr: 'ignore',
    }),
  );
  return client;
}

export function textOf(r: unknown): string {
  const content = (r as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}
