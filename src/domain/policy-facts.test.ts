import { describe, expect, it } from 'vitest';
import { compilePolicy } from './policy-compile.js';
import { KIND_FACTS, celContext } from './policy-facts.js';
import type { EvaluationInput } from './policy-types.js';

function input(kind: string, target: string, actionInput: Record<string, unknown>, extra: Partial<EvaluationInput> = {}): EvaluationInput {
  return {
    action: { kind, target, input: actionInput, mode: 'execute' },
    requester: { id: 'bot', type: 'agent', labels: {} },
    target: { name: target, kind, host: 'api.github.com', labels: {} },
    ...extra,
  };
}

/** Whether a condition holds for an input, through a compiled one-rule policy. */
function holds(kind: string, when: string, i: EvaluationInput): boolean {
  const text = `default: { outcome: allow }\nrules:\n  - id: r\n    match: { kind: ${kind} }\n    when: ${JSON.stringify(when)}\n    outcome: deny\n`;
  const d = compilePolicy(text, 'p.yaml', { groupExists: () => true }).policy.evaluate(i);
  if (d.reason.includes('condition failed')) throw new Error(d.reason);
  return d.outcome === 'deny';
}

describe('http facts', () => {
  const i = input('http', 'github', { method: 'POST', path: '/repos//acme/app/releases/', query: { per_page: '10', tag: ['a', 'b'], force: ['true'] }, body: { name: 'v1', draft: false, n: 3 } });

  it('are derived from the input and the target', () => {
    expect(KIND_FACTS.http(i)).toEqual({
      method: 'POST',
      host: 'api.github.com',
      // No trailing slash; a one-value list is the value itself (both send the same request).
      path: '/repos//acme/app/releases',
      segments: ['repos', 'acme', 'app', 'releases'],
      query: { per_page: '10', tag: ['a', 'b'], force: 'true' },
      body: { name: 'v1', draft: false, n: 3 },
    });
  });

  it.each([
    'http.method == "POST"',
    'http.host == "api.github.com"',
    'http.path.matches("^/repos/.*/releases$")',
    'http.query.force == "true"',
    'size(http.segments) == 4 && http.segments[1] == "acme"',
    '"per_page" in http.query && http.query.per_page == "10" && "b" in http.query.tag',
    'has(http.body.name) && !has(http.body.missing)',
    'http.body.draft == false && http.body.n > 2 && http.body.n == 3',
    'http.path.startsWith("/repos") && http.path.contains("acme") && http.path.endsWith("/releases")',
    'http.segments.exists(s, s == "releases")',
    'requester.id == "bot" && target.name == "github" && action.target == "github"',
  ])('%s', (when) => {
    expect(holds('http', when, i)).toBe(true);
  });

  it('the method is upper-cased, so a lower-case method cannot slip past a rule', () => {
    const lower = input('http', 'github', { method: 'delete', path: '/x' });
    expect(KIND_FACTS.http(lower).method).toBe('DELETE');
    expect(holds('http', 'http.method == "DELETE"', lower)).toBe(true);
  });

  it('a missing path gives no segments, and non-object queries read as empty', () => {
    expect(KIND_FACTS.http(input('http', 'x', { method: 'GET', query: 'a=b' }))).toMatchObject({ path: undefined, segments: [], query: {} });
  });
});

describe('mcp facts', () => {
  it('take the server from the target and the annotations from the gateway\'s hints', () => {
    const i = input('mcp', 'linear', { tool: 'delete_issue', arguments: { id: 'ENG-1' } }, { hints: { annotations: { destructiveHint: true } } });
    expect(KIND_FACTS.mcp(i)).toEqual({ server: 'linear', tool: 'delete_issue', arguments: { id: 'ENG-1' }, annotations: { destructiveHint: true } });
    expect(holds('mcp', 'mcp.server == "linear" && mcp.tool == "delete_issue" && mcp.arguments.id == "ENG-1"', i)).toBe(true);
    expect(holds('mcp', 'mcp.annotations.destructiveHint == true', i)).toBe(true);
  });

  it('never take annotations from the agent\'s input', () => {
    const i = input('mcp', 'linear', { tool: 'delete_issue', arguments: {}, annotations: { readOnlyHint: true }, hints: { annotations: { readOnlyHint: true } } });
    expect(KIND_FACTS.mcp(i).annotations).toEqual({});
    expect(holds('mcp', 'has(mcp.annotations.readOnlyHint)', i)).toBe(false);
  });
});

describe('tool facts (Claude Code hooks)', () => {
  it('expose the tool name, its input, the shell command and every path', () => {
    const i = input('tool', 'claude-code', { tool: 'Bash', input: { command: 'ls -la', description: 'list' } });
    expect(KIND_FACTS.tool(i)).toEqual({ name: 'Bash', input: { command: 'ls -la', description: 'list' }, command: 'ls -la', paths: [] });
    expect(holds('tool', 'tool.name == "Bash" && tool.command.startsWith("ls")', i)).toBe(true);
  });

  it('collect file_path, path and notebook_path at any depth, so nesting cannot hide one', () => {
    const i = input('tool', 'claude-code', {
      tool: 'MultiEdit',
      input: { file_path: '/a.ts', edits: [{ old_string: 'x', new_string: 'y', file_path: '/home/me/.ssh/config' }], nested: { deeper: [{ notebook_path: '/n.ipynb' }], path: '/dir' } },
    });
    expect(KIND_FACTS.tool(i).paths).toEqual(['/a.ts', '/dir', '/home/me/.ssh/config', '/n.ipynb']);
    expect(holds('tool', 'tool.paths.exists(p, p.contains("/.ssh/"))', i)).toBe(true);
  });

  it('expose the working directory when given, and leave it unset otherwise', () => {
    const i = input('tool', 'claude-code', { tool: 'Bash', input: { command: 'make' }, cwd: '/srv/app' });
    expect(KIND_FACTS.tool(i).cwd).toBe('/srv/app');
    expect(holds('tool', 'has(tool.cwd) && tool.cwd.startsWith("/srv/")', i)).toBe(true);
    expect(holds('tool', 'has(tool.cwd)', input('tool', 'claude-code', { tool: 'Bash', input: {} }))).toBe(false);
  });

  it('a command that is not a string is absent', () => {
    const i = input('tool', 'claude-code', { tool: 'Bash', input: { command: ['rm', '-rf'] } });
    expect(KIND_FACTS.tool(i).command).toBeUndefined();
    expect(holds('tool', 'has(tool.command)', i)).toBe(false);
  });
});

describe('the CEL context', () => {
  it('holds action, requester, target and the facts of the action\'s kind only', () => {
    const i = input('http', 'github', { method: 'GET', path: '/' });
    const ctx = celContext(i);
    expect(ctx.action).toBe(i.action);
    expect(ctx.requester).toBe(i.requester);
    expect(ctx.target).toBe(i.target);
    expect(ctx.http).toMatchObject({ method: 'GET' });
    expect(ctx.mcp).toBeUndefined();
    expect(ctx.tool).toBeUndefined();
    expect(celContext(input('sql', 'db', {})).http).toBeUndefined();
  });
});

describe('sql facts', () => {
  it('come from the gateway\'s hints, never from the agent\'s input', () => {
    const i = input('sql', 'db', { statement: 'DROP TABLE x', readOnly: true }, { hints: { sql: { readOnly: true, types: ['select'] } as never } });
    expect(holds('sql', 'sql.readOnly && sql.types == ["select"]', i)).toBe(true);
  });

  it('without hints, every risk fact holds: a rule can only get stricter', () => {
    const i = input('sql', 'db', { statement: 'SELECT 1' });
    expect(holds('sql', 'sql.readOnly', i)).toBe(false);
    expect(holds('sql', 'sql.ddl && sql.privilege && sql.export && sql.unbounded', i)).toBe(true);
  });
});
