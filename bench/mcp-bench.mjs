// Added latency of an allowed MCP tools/call through the gateway, side by side with
// the same call straight to the same upstream server, in one run. The upstream is the
// test suite's notes server over Streamable HTTP (one process, both paths use it); the
// gateway runs in this process with its SQLite store (WAL, synchronous=FULL), and the
// client reaches it over the SDK's in-memory transport, so the difference is the
// gateway itself: policy, the durable decision + running record, the upstream hop, the
// durable result and its audit entries.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { parseConfigText } from '../dist/config/load.js';
import { createLogger } from '../dist/logger.js';
import { startCore } from '../dist/main.js';
import { createMcpServer } from '../dist/mcp/mcp-server.js';
import { fmtUs, percentile, writeFragment } from './bench-util.mjs';

const dir = mkdtempSync(join(tmpdir(), 'countersign-mcp-bench-'));
const portFile = join(dir, 'port');
const upstream = spawn(process.execPath, [fileURLToPath(new URL('../test/mcp/notes-server.mjs', import.meta.url)), '--http', portFile], {
  env: { ...process.env, NOTES_DIR: dir },
  stdio: 'inherit',
});
while (!existsSync(portFile) || !readFileSync(portFile, 'utf8')) await new Promise((r) => setTimeout(r, 20));
const url = `http://127.0.0.1:${readFileSync(portFile, 'utf8')}/mcp`;

writeFileSync(
  join(dir, 'policy.yaml'),
  `default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: read-only
    match: { kind: mcp }
    when: has(mcp.annotations.readOnlyHint) && mcp.annotations.readOnlyHint == true
    outcome: allow
`,
);
const token = 'bench-agent-token-0123456789';
const loaded = parseConfigText(
  `listen: 127.0.0.1:0
store: { sqlite: ./bench.db }
policy: ./policy.yaml
agents: [{ id: bench-bot, token: "${token}", owner: owner@example.com }]
humans: [{ id: owner@example.com, groups: [oncall] }]
mcp: { servers: { notes: { url: "${url}" } } }
`,
  join(dir, 'countersign.yaml'),
);
const core = await startCore(loaded, { logger: createLogger('silent') });
const who = { type: 'agent', id: 'bench-bot', owner: 'owner@example.com', labels: {} };
const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
await createMcpServer(core.agents.gateway, who).connect(serverSide);
const viaGateway = new Client({ name: 'bench', version: '1' });
await viaGateway.connect(clientSide);
const direct = new Client({ name: 'bench', version: '1' });
await direct.connect(new StreamableHTTPClientTransport(new URL(url)));

const args = { name: 'n' };
const once = {
  direct: async () => {
    const r = await direct.callTool({ name: 'read_note', arguments: args });
    if (r.isError) throw new Error('direct call failed');
  },
  gateway: async () => {
    const r = await viaGateway.callTool({ name: 'notes__read_note', arguments: args });
    if (r.isError) throw new Error(`gateway call failed: ${JSON.stringify(r.content)}`);
  },
};

// Interleaved rounds, so that both paths see the same machine state.
const ROUNDS = 10;
const PER_ROUND = 200;
const samples = { direct: [], gateway: [] };
for (const k of ['direct', 'gateway']) for (let i = 0; i < 200; i++) await once[k]();
for (let round = 0; round < ROUNDS; round++) {
  for (const k of round % 2 ? ['gateway', 'direct'] : ['direct', 'gateway']) {
    for (let i = 0; i < PER_ROUND; i++) {
      const t = process.hrtime.bigint();
      await once[k]();
      samples[k].push(Number(process.hrtime.bigint() - t));
    }
  }
}
const d = Float64Array.from(samples.direct).sort();
const g = Float64Array.from(samples.gateway).sort();
const added50 = percentile(g, 50) - percentile(d, 50);
const added99 = percentile(g, 99) - percentile(d, 99);

await viaGateway.close();
await direct.close();
await core.close();
upstream.kill();
rmSync(dir, { recursive: true, force: true });

const row = (name, s) => `| ${name} | ${fmtUs(percentile(s, 50))} | ${fmtUs(percentile(s, 99))} |`;
const md = `## MCP gateway

An allowed \`tools/call\` (a read-only tool, allowed by an annotation rule) through the
gateway against the same call straight to the same upstream server (Streamable HTTP,
one process), ${ROUNDS * PER_ROUND} calls each, interleaved. Through the gateway the call is decided by
policy, recorded (decision and running state in one durable write before the upstream
call, the result and its audit entries in a second), and its result redacted.

| path | p50 µs | p99 µs |
| --- | ---: | ---: |
${row('straight to the server', d)}
${row('through the gateway', g)}

Added latency: **p50 ${fmtUs(added50)} µs, p99 ${fmtUs(added99)} µs** (targets: p50 <= 1000 µs, p99 <= 3000 µs).
`;
process.stdout.write(md);
writeFragment('mcp-bench', md);
