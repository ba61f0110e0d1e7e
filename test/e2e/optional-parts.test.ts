import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { startServer, startTarget, workspace } from './harness.js';

// A gateway loads an optional part's modules only when its config enables that part
// (docs/production.md, memory): a minimal config must not pay for the PostgreSQL
// store and driver, the SQL parser, runners, the console, OIDC, the MCP gateway or the
// wire gateway. A module-loading hook (node:module register()) records every URL the
// `serve` process resolves; the second config enables the parts, to show the hook sees them.

const REGISTER = fileURLToPath(new URL('../support/module-trace-register.mjs', import.meta.url));

/** Each optional part, by the entry modules (under dist/ or node_modules/) that show it loaded. */
const PARTS: Record<string, RegExp> = {
  'PostgreSQL store': /\/dist\/adapters\/store\/postgres\/pg-store\.js$/,
  'PostgreSQL driver': /\/node_modules\/pg\//,
  'SQL parser (libpg-query)': /\/node_modules\/libpg-query\//,
  'postgres targets': /\/dist\/adapters\/sql\/postgres-targets\.js$/,
  'wire gateway': /\/dist\/(app\/pgwire-wiring\.js|pgwire\/)/,
  'command targets and runners': /\/dist\/(app\/command-wiring\.js|runner\/|adapters\/command\/)/,
  'web console': /\/dist\/(app\/console-wiring\.js|console\/)/,
  'OIDC (jose, openid-client)': /\/dist\/adapters\/identity\/oidc-authenticator\.js$|\/node_modules\/(jose|openid-client)\//,
  'MCP gateway': /\/dist\/mcp\/|\/node_modules\/@modelcontextprotocol\//,
  'the other CLI commands': /\/dist\/(cli\/command-groups\.js|demo\/)/,
};

/** `serve` under the hook, with its workspace and the file the hook writes. */
async function traced(extraConfig = '', extraTargets = '') {
  const target = await startTarget();
  const ws = workspace(target.url, { extraConfig });
  writeFileSync(ws.configPath, readFileSync(ws.configPath, 'utf8').replace('\ntargets:\n', `\ntargets:\n${extraTargets}`));
  const trace = join(ws.dir, 'modules.txt');
  const server = await startServer({ ...ws, env: { ...ws.env, NODE_OPTIONS: `--import ${REGISTER}`, COUNTERSIGN_MODULE_TRACE: trace } });
  return {
    ws,
    server,
    modules: () => (existsSync(trace) ? readFileSync(trace, 'utf8').split('\n').filter(Boolean) : []),
    async close() {
      await server.stop();
      await target.close();
      ws.cleanup();
    },
  };
}

/** Waits for the log line of a reload's outcome. */
async function reloaded(logs: readonly string[], from: number): Promise<{ msg: string; changed?: string[]; errors?: string[] }> {
  for (;;) {
    for (const line of logs.slice(from)) {
      try {
        const o = JSON.parse(line) as { msg?: string; changed?: string[]; errors?: string[] };
        if (o.msg === 'config reloaded' || o.msg === 'config reload refused; the running config is kept') return { msg: o.msg, ...o };
      } catch {
        // not JSON
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `serve` with `extraConfig` under the hook; returns the URLs it resolved once it listens. */
async function loadedBy(extraConfig = '', extraTargets = ''): Promise<string[]> {
  const g = await traced(extraConfig, extraTargets);
  try {
    await g.server.stop();
    return g.modules();
  } finally {
    await g.close();
  }
}

function partsIn(urls: readonly string[]): string[] {
  return Object.entries(PARTS)
    .filter(([, re]) => urls.some((u) => re.test(u)))
    .map(([name]) => name);
}

const ENABLED = `oidc: { issuer: "https://idp.invalid", audience: countersign, jwksUri: "http://127.0.0.1:9/jwks" }
console:
  enabled: true
  oidc: { issuer: "https://idp.invalid", clientId: console, clientSecret: "\${T_TARGET}" }
runners:
  list: [{ id: r1, token: "\${T_OTHER}" }]
postgresListen:
  address: 127.0.0.1:0
  databases: { app: { target: db } }
`;
const ENABLED_TARGETS = `  db: { kind: postgres, url: "postgres://app:\${T_TARGET}@127.0.0.1:9/app" }
  shell: { kind: command, programs: { node: { path: ${process.execPath} } } }
`;

describe('optional parts load only when configured', () => {
  let minimal: string[];
  let enabled: string[];
  beforeAll(async () => {
    minimal = await loadedBy();
    enabled = await loadedBy(ENABLED, ENABLED_TARGETS);
  }, 120_000);

  it('a minimal config (SQLite, tokens, http targets) loads none of them', () => {
    expect(minimal.some((u) => u.endsWith('/dist/app/main.js')), 'the hook saw the gateway load').toBe(true);
    expect(partsIn(minimal)).toEqual([]);
  });

  it('a config enabling them loads each, so the hook would see them', () => {
    expect(partsIn(enabled).sort()).toEqual(Object.keys(PARTS).filter((p) => !['PostgreSQL store', 'MCP gateway', 'the other CLI commands'].includes(p)).sort());
  });

  it('a reload that enables OIDC loads it then and applies it; one that enables the console is refused as restart-only', async () => {
    const g = await traced();
    try {
      expect(partsIn(g.modules())).toEqual([]);
      const base = readFileSync(g.ws.configPath, 'utf8');
      writeFileSync(g.ws.configPath, `${base}oidc: { issuer: "https://idp.invalid", audience: countersign, jwksUri: "http://127.0.0.1:9/jwks" }\n`);
      let from = g.server.logs.length;
      g.server.child.kill('SIGHUP');
      const ok = await reloaded(g.server.logs, from);
      expect(ok.msg).toBe('config reloaded');
      expect(ok.changed).toContain('oidc');
      expect(partsIn(g.modules())).toEqual(['OIDC (jose, openid-client)']);
      // The agent's token still authenticates through the chain that now holds OIDC too.
      await expect(g.server.client(g.ws.tokens.agent).list()).resolves.toBeDefined();

      writeFileSync(g.ws.configPath, `${readFileSync(g.ws.configPath, 'utf8')}console: { enabled: true, oidc: { issuer: "https://idp.invalid", clientId: console, clientSecret: "\${T_TARGET}" } }\n`);
      from = g.server.logs.length;
      g.server.child.kill('SIGHUP');
      const refused = await reloaded(g.server.logs, from);
      expect(refused.msg).toBe('config reload refused; the running config is kept');
      expect(refused.errors?.join(' ')).toMatch(/only apply on a restart: .*console/);
      expect(partsIn(g.modules())).not.toContain('web console');
    } finally {
      await g.close();
    }
  }, 120_000);
});
