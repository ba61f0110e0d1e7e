import { describe, expect, it } from 'vitest';
import { agentTargets } from './agent-targets.js';
import { targetFacts } from './config-facts.js';
import { ConfigError, parseConfigText } from './load.js';

const base = `
agents: [{ id: bot, token: "0123456789abcdef0123", owner: o@example.com }]
humans: [{ id: o@example.com }]
targets: { github: { kind: http, baseUrl: https://api.github.com } }
`;

function load(extra: string, env: NodeJS.ProcessEnv = {}) {
  return parseConfigText(`${base}${extra}`, '/etc/countersign.yaml', env);
}

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  throw new Error('expected a config error');
}

describe('agent targets from config', () => {
  it('each MCP server is a target of kind mcp and each tools entry one of kind tool; policy sees names, hosts and labels only', () => {
    const c = load(`
mcp:
  servers:
    files: { command: npx, args: [-y, server], env: { TOKEN: "\${FILES_TOKEN}" }, labels: { tier: local } }
    tickets: { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer \${TICKETS_TOKEN}" } }
tools: { claude-code: {}, ci: { labels: { env: prod } } }
`, { FILES_TOKEN: 'files-secret-123456', TICKETS_TOKEN: 'tickets-secret-123456' });
    expect(agentTargets(c.config).map((t) => [t.name, t.kind])).toEqual([['files', 'mcp'], ['tickets', 'mcp'], ['claude-code', 'tool'], ['ci', 'tool']]);
    expect(targetFacts(c.config, 'tickets')).toEqual({ name: 'tickets', kind: 'mcp', host: 'mcp.example.com', labels: {} });
    expect(targetFacts(c.config, 'files')).toEqual({ name: 'files', kind: 'mcp', labels: { tier: 'local' } });
    expect(targetFacts(c.config, 'ci')).toEqual({ name: 'ci', kind: 'tool', labels: { env: 'prod' } });
    // Upstream credentials are secrets: redacted wherever they could appear.
    expect(c.secrets).toEqual(expect.arrayContaining(['files-secret-123456', 'tickets-secret-123456', 'Bearer tickets-secret-123456']));
  });

  it('claude-code is a tool target by default', () => {
    expect(agentTargets(load('').config).map((t) => t.name)).toEqual(['claude-code']);
  });

  it('a name used by two targets is refused with its path', () => {
    const c = load('tools: { github: {} }\n');
    expect(issuesOf(() => agentTargets(c.config, 'countersign.yaml'))).toEqual(['tools.github: target name "github" is already used by another target']);
  });

  it('refuses server names with underscores, servers that are neither stdio nor http, and holds over 10 minutes', () => {
    expect(issuesOf(() => load('mcp: { servers: { my_files: { command: x } } }\n')).join('\n')).toMatch(/no underscore/);
    expect(issuesOf(() => load('mcp: { servers: { files: { command: x, url: "https://a.example" } } }\n')).length).toBeGreaterThan(0);
    expect(issuesOf(() => load('mcp: { servers: { files: { url: "ftp://a.example" } } }\n')).length).toBeGreaterThan(0);
    expect(issuesOf(() => load('mcp: { hold: 11m }\n')).join('\n')).toMatch(/at most 10m/);
    expect(issuesOf(() => load('mcp: { changedToolReview: { approvers: [security] } }\n')).join('\n')).toMatch(/group:NAME or user:EMAIL/);
  });
});
