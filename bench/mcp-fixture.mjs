// What the MCP benchmarks share (mcp-bench.mjs, mcp-cpu.mjs): the upstream notes server
// over Streamable HTTP, and the policy allowing its read-only tools.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MCP_BENCH_TOKEN = 'bench-agent-token-0123456789';

/**
 * Starts the notes server; it goes with this process, also when a benchmark fails. Resolves
 * with its URL and a stop. Its files (a log line per call) go to `dir`/notes, not beside the
 * gateway's policy file: the gateway watches the policy's folder, and every write there wakes it.
 */
export async function startNotesUpstream(dir) {
  const portFile = join(dir, 'port');
  const notesDir = join(dir, 'notes');
  mkdirSync(notesDir, { recursive: true });
  const upstream = spawn(process.execPath, [fileURLToPath(new URL('../test/mcp/notes-server.mjs', import.meta.url)), '--http', portFile], {
    env: { ...process.env, NOTES_DIR: notesDir },
    stdio: 'inherit',
  });
  process.on('exit', () => upstream.kill());
  while (!existsSync(portFile) || !readFileSync(portFile, 'utf8')) await new Promise((r) => setTimeout(r, 20));
  return { url: `http://127.0.0.1:${readFileSync(portFile, 'utf8')}/mcp`, stop: () => upstream.kill() };
}

/** The policy: read-only tools (by annotation) allowed, the rest reviewed. */
export function writeMcpBenchPolicy(dir) {
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
}

/**
 * The gateway's config text: the bench agent, its owner as the only human, the notes server
 * upstream. Keep `storeFile` out of `dir` itself (`dir`/data/, as docs/getting-started.md lays
 * it out): a store beside the policy file wakes the policy watcher on every write.
 */
export function mcpBenchConfig({ storeFile, dir, url }) {
  return `listen: 127.0.0.1:0
store: { sqlite: "${storeFile}" }
policy: ${join(dir, 'policy.yaml')}
agents: [{ id: bench-bot, token: "${MCP_BENCH_TOKEN}", owner: owner@example.com }]
humans: [{ id: owner@example.com, groups: [oncall] }]
mcp: { servers: { notes: { url: "${url}" } } }
`;
}
