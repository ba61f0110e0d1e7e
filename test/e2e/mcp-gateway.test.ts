import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canary } from '../support/canaries.js';
import { raw, runCli, startServer, startTarget, until, workspace } from './harness.js';
import type { ServerProcess, Workspace } from './harness.js';
import { callsIn, FILESYSTEM_SERVER, httpMcpClient, NOTES_SERVER, startNotesHttp, stdioMcpClient, textOf } from './mcp-harness.js';

const POLICY = `
default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: read-only-tools
    match: { kind: mcp }
    when: has(mcp.annotations.readOnlyHint) && mcp.annotations.readOnlyHint == true
    outcome: allow
  - id: no-deletes
    match: { kind: mcp }
    when: mcp.tool == "delete_note"
    outcome: deny
    reason: Notes are never deleted by agents
  - id: no-secret-notes
    match: { kind: mcp }
    when: has(mcp.arguments.name) && mcp.arguments.name == "secret"
    outcome: deny
    reason: Secret notes stay secret
  - id: file-writes
    match: { kind: mcp, target: files }
    when: mcp.tool == "write_file"
    outcome: review
    review: { approvers: [group:oncall], quorum: 1, timeout: 15m }
`;

type Transport = 'http' | 'stdio';

describe.each<Transport>(['http', 'stdio'])('MCP gateway over %s', (transport) => {
  let target: Awaited<ReturnType<typeof startTarget>>;
  let ws: Workspace;
  let server: ServerProcess;
  let remote: Awaited<ReturnType<typeof startNotesHttp>>;
  let client: Client;
  let stdioDir: string;
  let remoteDir: string;
  let filesDir: string;
  const remoteToken = canary('mcp-remote-token');
  const notesToken = canary('mcp-notes-token');

  beforeAll(async () => {
    target = await startTarget();
    ws = workspace(target.url, { policy: POLICY });
    stdioDir = join(ws.dir, 'stdio-notes');
    remoteDir = join(ws.dir, 'remote-notes');
    filesDir = join(ws.dir, 'files');
    for (const d of [stdioDir, remoteDir, filesDir]) mkdirSync(d, { recursive: true });
    remote = await startNotesHttp(remoteDir);
    ws.env.T_REMOTE = remoteToken;
    ws.env.T_NOTES = notesToken;
    writeFileSync(
      ws.configPath,
      `${readFileSync(ws.configPath, 'utf8')}
mcp:
  hold: 2s
  hideDenied: true
  progressInterval: 1s
  changedToolReview: { approvers: [group:oncall], timeout: 15m }
  servers:
    notes: { command: "${process.execPath}", args: ["${NOTES_SERVER}"], env: { NOTES_DIR: "${stdioDir}", NOTES_TOKEN: "\${T_NOTES}" } }
    remote: { url: "${remote.url}", headers: { Authorization: "Bearer \${T_REMOTE}" } }
    files: { command: "${process.execPath}", args: ["${FILESYSTEM_SERVER}", "${filesDir}"] }
`,
    );
    server = await startServer(ws);
    client = transport === 'http' ? await httpMcpClient(server.url, ws.tokens.agent) : await stdioMcpClient(ws, ws.tokens.agent);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await server?.stop();
    remote?.stop();
    await target?.close();
    ws?.cleanup();
  });

  const approveLatest = async (id: string) => {
    const bob = server.client(ws.tokens.bob);
    const a = await bob.get(id);
    return bob.approve(id, a.fingerprint);
  };
  const actionIdOf = (r: unknown) => ((r as { _meta?: Record<string, { id: string }> })._meta?.['countersign/action']?.id ?? '');

  it('lists every upstream tool under its server name, with its annotations', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const n of ['notes__read_note', 'notes__write_note', 'remote__whoami', 'files__write_file', 'files__read_text_file']) expect(names).toContain(n);
    expect(tools.find((t) => t.name === 'notes__read_note')?.annotations).toEqual({ readOnlyHint: true });
    // hideDenied: a tool that policy denies whatever the arguments is left out; one denied for some arguments is not.
    expect(names).not.toContain('notes__delete_note');
    expect(names).toContain('notes__write_note');
    // Only the stdio gateway sends tools/list_changed, so only it says it will.
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(transport === 'stdio');
  });

  it('passes an allowed call straight through', async () => {
    const r = await client.callTool({ name: 'notes__read_note', arguments: { name: 'nothing' } });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toBe('(no such note)');
    expect(callsIn(stdioDir).filter((c) => c.tool === 'read_note')).toHaveLength(1);
  });

  it('never runs a denied call, and says which rule denied it and why', async () => {
    // Hidden from the listing, and still refused when called by name.
    const r = await client.callTool({ name: 'notes__delete_note', arguments: { name: 'x' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('no-deletes');
    expect(textOf(r)).toContain('Notes are never deleted by agents');
    const secret = await client.callTool({ name: 'notes__read_note', arguments: { name: 'secret' } });
    expect(textOf(secret)).toContain('Secret notes stay secret');
    expect(callsIn(stdioDir).some((c) => c.tool === 'delete_note' || c.args.name === 'secret')).toBe(false);
  });

  it('refuses calls to tools that do not exist and malformed arguments, creating nothing', async () => {
    const before = (await server.client(ws.tokens.agent).list({ limit: 100 })).actions.length;
    const unknownServer = await client.callTool({ name: 'nowhere__read_note', arguments: {} });
    expect(textOf(unknownServer)).toContain('TOOL_NOT_FOUND');
    const unknownTool = await client.callTool({ name: 'notes__format_disk', arguments: {} });
    expect(textOf(unknownTool)).toContain('VALIDATION_FAILED');
    expect((await server.client(ws.tokens.agent).list({ limit: 100 })).actions.length).toBe(before);
  });

  it('holds a call that needs review with progress, answers "approval pending", and returns the result once approved: the write happens exactly once', async () => {
    const args = { path: join(filesDir, 'release.txt'), content: `v1 ${transport}` };
    const progress: number[] = [];
    const first = await client.callTool({ name: 'files__write_file', arguments: args }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(first.isError).toBe(true);
    expect(textOf(first)).toMatch(/^Approval pending/);
    const id = actionIdOf(first);
    // serve knows its own URL; the stdio gateway links to publicUrl (unset here, so only the path is checked).
    expect(textOf(first)).toContain(transport === 'http' ? `${server.url}/v1/actions/${id}` : `/v1/actions/${id}`);
    expect(progress.length).toBeGreaterThan(0);
    expect(existsSync(args.path)).toBe(false);

    // Still pending: the same call says so again, and nothing ran.
    const again = await client.callTool({ name: 'files__write_file', arguments: args });
    expect(actionIdOf(again)).toBe(id);
    expect(existsSync(args.path)).toBe(false);

    await approveLatest(id);
    const done = await client.callTool({ name: 'files__write_file', arguments: args });
    expect(done.isError).toBeFalsy();
    expect(textOf(done)).toContain('Successfully wrote');
    expect(readFileSync(args.path, 'utf8')).toBe(args.content);

    // The approved fingerprint is used once: the same call again is a new action.
    writeFileSync(args.path, 'changed by a human');
    const next = await client.callTool({ name: 'files__write_file', arguments: args });
    expect(textOf(next)).toMatch(/^Approval pending/);
    expect(actionIdOf(next)).not.toBe(id);
    expect(readFileSync(args.path, 'utf8')).toBe('changed by a human');
    const audit = await server.client(ws.tokens.bob).get(id);
    expect(audit.status).toBe('succeeded');
  });

  it('runs a call approved while it is held, and returns its result in that same call', async () => {
    const args = { path: join(filesDir, `held-${transport}.txt`), content: 'approved in time' };
    const call = client.callTool({ name: 'files__write_file', arguments: args });
    const bob = server.client(ws.tokens.bob);
    const page = await until(
      () => bob.list({ status: ['pending'] }),
      (p) => p.actions.some((a) => JSON.stringify(a.input).includes(`held-${transport}.txt`)),
    );
    const a = page.actions.find((x) => JSON.stringify(x.input).includes(`held-${transport}.txt`))!;
    await bob.approve(a.id, a.fingerprint);
    const r = await call;
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toContain('Successfully wrote');
    expect(readFileSync(args.path, 'utf8')).toBe(args.content);
    expect((await bob.get(a.id)).status).toBe('succeeded');
  });

  it('returns an error, once, for a call a reviewer denied; it never runs', async () => {
    const args = { name: `n-${transport}`, text: 'hello' };
    const first = await client.callTool({ name: 'notes__write_note', arguments: args });
    const id = actionIdOf(first);
    await server.client(ws.tokens.bob).deny(id, 'not today');
    const r = await client.callTool({ name: 'notes__write_note', arguments: args });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('Denied by bob@example.com: not today');
    expect(callsIn(stdioDir).some((c) => c.tool === 'write_note')).toBe(false);
    const again = await client.callTool({ name: 'notes__write_note', arguments: args });
    expect(textOf(again)).toMatch(/^Approval pending/);
    expect(actionIdOf(again)).not.toBe(id);
  });

  it('never shows the upstream credentials to the client', async () => {
    const http = await client.callTool({ name: 'remote__whoami', arguments: {} });
    const stdio = await client.callTool({ name: 'notes__whoami', arguments: {} });
    expect(textOf(http)).toContain('my credential is');
    expect(callsIn(remoteDir).some((c) => c.tool === 'whoami')).toBe(true);
    for (const r of [http, stdio]) {
      expect(JSON.stringify(r)).not.toContain(remoteToken);
      expect(JSON.stringify(r)).not.toContain(notesToken);
      expect(textOf(r)).toContain('[REDACTED]');
    }
    const listing = JSON.stringify(await client.listTools());
    expect(listing).not.toContain(remoteToken);
    expect(listing).not.toContain(notesToken);
  });

  it('treats a tool whose definition changed as review-required, and audits the change', async () => {
    const dir = transport === 'http' ? remoteDir : stdioDir;
    const server_ = transport === 'http' ? 'remote' : 'notes';
    const before = await client.callTool({ name: `${server_}__read_note`, arguments: { name: 'a' } });
    expect(before.isError).toBeFalsy();
    writeFileSync(join(dir, 'rug-pull'), '1');
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === `${server_}__read_note`)?.description).toContain('~/.ssh');
    const calls = callsIn(dir).length;
    const after = await client.callTool({ name: `${server_}__read_note`, arguments: { name: 'a' } });
    expect(textOf(after)).toMatch(/^Approval pending/);
    expect(textOf(after)).toContain('mcp-tool-changed');
    expect(callsIn(dir).length).toBe(calls);
    const audit = await runCli(['audit', 'tail', '--config', ws.configPath, '-n', '500', '--json'], ws.env);
    expect(audit.stdout).toContain('mcp.tool.changed');

    // An operator accepts the new definition: calls follow policy again (read-only: allowed).
    const trust = await runCli(['mcp-trust', '--config', ws.configPath, '--by', 'olga@example.com', server_, 'read_note'], ws.env);
    expect(trust.code).toBe(0);
    expect((await runCli(['mcp-trust', '--config', ws.configPath, '--by', 'olga@example.com', server_, 'read_note'], ws.env)).code).toBe(1);
    await client.listTools();
    const trusted = await client.callTool({ name: `${server_}__read_note`, arguments: { name: 'b' } });
    expect(trusted.isError).toBeFalsy();
    expect((await runCli(['audit', 'tail', '--config', ws.configPath, '-n', '500', '--json'], ws.env)).stdout).toContain('mcp.tool.repinned');
  });

  // Transport-specific: registered only for its transport (nothing reported as skipped).
  if (transport === 'http')
    it('answers 401 with a stable code without a valid agent token, and 405 to GET', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const none = await raw(server.url, '/mcp', { method: 'POST', headers, body });
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe('UNAUTHENTICATED');
    const bad = await raw(server.url, '/mcp', { method: 'POST', headers, body, token: 'not-a-token-0123456789' });
    expect(bad.status).toBe(401);
    const get = await raw(server.url, '/mcp', { method: 'GET', token: ws.tokens.agent });
    expect(get.status).toBe(405);
    expect(get.body.error?.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('the audit log of everything above verifies offline: integrity and governance', async () => {
    const r = await runCli(['audit', 'verify', '--config', ws.configPath, '--json', '--no-progress'], ws.env);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 0, counts: { governance: 0, tampering: 0 }, governanceChecked: true });
    expect(r.code).toBe(0);
  });

  if (transport === 'stdio')
    it('countersign mcp refuses to start without a valid token', async () => {
    const r = await runCli(['mcp', '--config', ws.configPath], { ...ws.env, COUNTERSIGN_TOKEN: 'not-a-token-0123456789' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not valid');
  });
});
