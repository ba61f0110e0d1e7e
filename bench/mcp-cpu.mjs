// CPU time per allowed MCP tools/call through the gateway, against the same call straight
// to the upstream server: the load-independent measure of a change to the gateway's
// allowed-call path on a shared machine (mcp-bench.mjs's wall-clock figures move with the
// neighbours). Same setup as mcp-bench.mjs: the notes server over Streamable HTTP in its
// own process, the gateway in this one behind the SDK's in-memory transport.
// Not a `-bench.mjs`: `npm run bench` does not run it and it writes no docs fragment.
//
//   node bench/mcp-cpu.mjs [compiled dist directory, default: ./dist]   MCP_CPU_CALLS=3000 MCP_CPU_ROUNDS=3
//   MCP_CPU_PATHS=gateway node --cpu-prof --cpu-prof-dir=DIR bench/mcp-cpu.mjs   a profile of one path
//
// Prints one JSON line per round: CPU µs per call of this process's main thread, of the
// busiest other thread (the store's writer) and of the rest, for each path, and the
// gateway's extra (gateway - direct).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { threadCpu, threadCpuSpent } from './proc-cpu.mjs';
import { mcpBenchConfig, startNotesUpstream, writeMcpBenchPolicy } from './mcp-fixture.mjs';

const root = process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url));
const dist = (p) => import(pathToFileURL(join(root, p)).href);
const { parseConfigText } = await dist('config/load.js');
const { createLogger } = await dist('logger.js');
const { startCore } = await dist('app/main.js');
const { createMcpServer } = await dist('mcp/mcp-server.js');
const N = Number(process.env.MCP_CPU_CALLS ?? 3000);
const ROUNDS = Number(process.env.MCP_CPU_ROUNDS ?? 3);

const dir = mkdtempSync(join(tmpdir(), 'countersign-mcp-cpu-'));
const { url, stop: stopUpstream } = await startNotesUpstream(dir);
writeMcpBenchPolicy(dir);
const loaded = parseConfigText(
    mcpBenchConfig({ storeFile: join(dir, 'data', 'cpu.db'), dir, url }),
  join(dir, 'countersign.yaml'),
);
const core = await startCore(loaded, { logger: createLogger('silent') });
const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
await createMcpServer(core.agents.gateway, { type: 'agent', id: 'bench-bot', owner: 'owner@example.com', labels: {} }, { listChanged: false }).connect(serverSide);
const viaGateway = new Client({ name: 'bench', version: '1' });
await viaGateway.connect(clientSide);
const direct = new Client({ name: 'bench', version: '1' });
await direct.connect(new StreamableHTTPClientTransport(new URL(url)));

const once = {
  direct: () => direct.callTool({ name: 'read_note', arguments: { name: 'n' } }),
  gateway: () => viaGateway.callTool({ name: 'notes__read_note', arguments: { name: 'n' } }),
};
for (const k of Object.keys(once)) for (let i = 0; i < 200; i++) if ((await once[k]()).isError) throw new Error(`${k} call failed`);
const paths = (process.env.MCP_CPU_PATHS ?? 'direct,gateway').split(',');
const per = (us) => Math.round((us / N) * 10) / 10;
// Chunks of 200 calls, alternating: the SDK client's fetches leave abort listeners on the
// transport's signal until a GC, and a long run of one path makes them pile up.
const CHUNK = 200;
for (let round = 0; round < ROUNDS; round++) {
  const out = { load1: loadavg()[0].toFixed(2) };
  const spent = Object.fromEntries(paths.map((k) => [k, { main: 0, busiestOther: 0, rest: 0 }]));
  for (let done = 0; done < N; done += CHUNK) {
    for (const k of paths) {
      const before = threadCpu(process.pid);
      for (let i = 0; i < Math.min(CHUNK, N - done); i++) await once[k]();
      const s = threadCpuSpent(before, threadCpu(process.pid));
      for (const f of ['main', 'busiestOther', 'rest']) spent[k][f] += s[f];
    }
  }
  for (const k of paths) out[k] = { main: per(spent[k].main), writer: per(spent[k].busiestOther), rest: per(spent[k].rest) };
  if (out.direct && out.gateway) {
    out.extraMain = Math.round((out.gateway.main - out.direct.main) * 10) / 10;
    out.extraAll = Math.round((out.gateway.main + out.gateway.writer + out.gateway.rest - out.direct.main - out.direct.writer - out.direct.rest) * 10) / 10;
  }
  console.log(JSON.stringify(out));
}
await viaGateway.close();
await direct.close();
await core.close();
stopUpstream();
rmSync(dir, { recursive: true, force: true });
