import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../domain/action-record.js';
import type { McpUpstream, McpUpstreams } from '../../mcp/mcp-upstreams.js';
import { createMcpExecutor } from './mcp-executor.js';

// The upstream is our own port, answering what a server could: the executor's
// redaction and limits are what is under test (the real SDK path is in test/e2e).
function upstreams(answer: () => CallToolResult): McpUpstreams {
  const one: McpUpstream = {
    name: 'notes',
    listTools: () => Promise.resolve([]),
    callTool: () => Promise.resolve(answer()),
    onToolsChanged: () => undefined,
    timeoutMs: 1000,
  };
  return { get: (n) => (n === 'notes' ? one : undefined), names: () => ['notes'], close: () => Promise.resolve() };
}

const action = { target: 'notes', input: { tool: 'read_note', arguments: {} } } as unknown as ActionRecord;
const SECRET = 'pa"ss\\word-with-quote';

describe('the MCP executor', () => {
  it('redacts a secret wherever the tool echoes it, even one that JSON text would escape', async () => {
    const exec = createMcpExecutor({
      upstreams: upstreams(() => ({ content: [{ type: 'text', text: `token=${SECRET}` }], structuredContent: { nested: [{ [SECRET]: SECRET }] } })),
      secrets: [SECRET],
      maxResultBytes: 100_000,
    });
    const r = await exec.execute(action);
    expect(r.ok).toBe(true);
    const text = JSON.stringify(r.body);
    expect(text).not.toContain('word-with-quote');
    expect(r.body).toEqual({ content: [{ type: 'text', text: 'token=[REDACTED]' }], structuredContent: { nested: [{ '[REDACTED]': '[REDACTED]' }] } });
  });

  it('replaces a result over the limit by an error, and reports a tool error as not ok', async () => {
    const big = createMcpExecutor({ upstreams: upstreams(() => ({ content: [{ type: 'text', text: 'x'.repeat(5000) }] })), secrets: [], maxResultBytes: 1000 });
    expect(await big.execute(action)).toMatchObject({ ok: false, error: { code: 'MCP_RESULT_TOO_LARGE' }, bodyTruncated: true });
    const failing = createMcpExecutor({ upstreams: upstreams(() => ({ content: [{ type: 'text', text: 'no such note' }], isError: true })), secrets: [], maxResultBytes: 1000 });
    expect(await failing.execute(action)).toMatchObject({ ok: false, body: { isError: true } });
  });

  it('redacts a credential the tool echoes base64-, hex- or URL-encoded, upper-cased or cut short, and keeps a __proto__ key', async () => {
    const KEY = 'mcp_live_7Hq2Xw9Lp4Rz';
    const forms = [Buffer.from(`svc:${KEY}`).toString('base64'), Buffer.from(KEY).toString('hex'), encodeURIComponent(`${KEY}/`), KEY.toUpperCase(), KEY.slice(0, -1)];
    const exec = createMcpExecutor({
      upstreams: upstreams(() => JSON.parse(JSON.stringify({ content: forms.map((text) => ({ type: 'text', text })), structuredContent: JSON.parse(`{"__proto__":{"k":"${KEY}"},"ok":1}`) as unknown }), (k, v: unknown) => v) as CallToolResult),
      secrets: [KEY],
      maxResultBytes: 100_000,
    });
    const r = await exec.execute(action);
    const text = JSON.stringify(r.body);
    for (const f of forms) expect(text).not.toContain(f);
    expect(text).toContain('"structuredContent":{"__proto__":{"k":"[REDACTED]"},"ok":1}');
  });
});
