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
      bodyType: 'json',
      contentType: '',
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

  it('a query key named __proto__ is a fact like any other, not a prototype policy cannot see', () => {
    const q = JSON.parse('{"__proto__": ["admin"], "a": "1"}') as Record<string, unknown>;
    const i = input('http', 'x', { method: 'GET', path: '/x', query: q });
    expect(Object.keys(KIND_FACTS.http(i).query as object)).toEqual(['__proto__', 'a']);
    expect(holds('http', '"__proto__" in http.query', i)).toBe(true);
  });

  it('a missing path gives no segments, and non-object queries read as empty', () => {
    expect(KIND_FACTS.http(input('http', 'x', { method: 'GET', query: 'a=b' }))).toMatchObject({ path: undefined, segments: [], query: {} });
  });
});

describe('http body facts: policy reads the body as the target will', () => {
  const deny = 'has(http.body.role) && http.body.role == "admin"';
  const post = (body: unknown, headers: Record<string, string> = {}, contentType?: string): EvaluationInput => {
    const e = input('http', 'api', { method: 'POST', path: '/users', headers, body });
    return contentType === undefined ? e : { ...e, target: { ...e.target, contentType } };
  };

  it('a JSON body sent as a string is parsed, so a deny on one of its fields fires (issue 12 §3)', () => {
    const e = post('{"role":"admin"}', { 'content-type': 'application/json' });
    expect(KIND_FACTS.http(e)).toMatchObject({ body: { role: 'admin' }, bodyType: 'json', contentType: 'application/json' });
    expect(holds('http', deny, e)).toBe(true);
  });

  it.each([
    ['Content-Type', 'application/json; charset=utf-8'],
    ['CONTENT-TYPE', 'Application/JSON'],
    ['content-type', 'application/merge-patch+json'],
    ['content-type', 'application/vnd.api+json; charset="UTF-8"'],
    ['content-type', 'text/json'],
  ])('the content type is found whatever its casing or parameters (%s: %s)', (name, value) => {
    expect(holds('http', deny, post('{"role":"admin"}', { [name]: value }))).toBe(true);
  });

  it.each([
    ['no content type', {}],
    ['text/plain', { 'content-type': 'text/plain' }],
    ['application/octet-stream', { 'content-type': 'application/octet-stream' }],
  ])('a string that is a JSON object is parsed whatever its label (%s): servers that ignore the label parse it', (_label, headers) => {
    const e = post(' {"role":"admin"}', headers);
    expect(KIND_FACTS.http(e).bodyType).toBe('json');
    expect(holds('http', deny, e)).toBe(true);
  });

  it('a form body is decoded into fields, repeated fields into a list', () => {
    const e = post('role=admin&tag=a&tag=b+c&note=%C3%A9t%C3%A9', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(KIND_FACTS.http(e)).toMatchObject({ body: { role: 'admin', tag: ['a', 'b c'], note: 'été' }, bodyType: 'form' });
    expect(holds('http', deny, e)).toBe(true);
  });

  it('the target\'s injected content type wins over the agent\'s, as it does when the request is sent', () => {
    const e = post('{"role":"admin"}', { 'content-type': 'text/plain' }, 'application/json');
    expect(KIND_FACTS.http(e).contentType).toBe('application/json');
    expect(holds('http', deny, e)).toBe(true);
    const form = post('role=admin', {}, 'application/x-www-form-urlencoded');
    expect(KIND_FACTS.http(form).body).toEqual({ role: 'admin' });
  });

  it('plain text stays a string, and no body is bodyType none', () => {
    expect(KIND_FACTS.http(post('hello {role: admin}', { 'content-type': 'text/plain' }))).toMatchObject({ body: 'hello {role: admin}', bodyType: 'text', contentType: 'text/plain' });
    expect(KIND_FACTS.http(input('http', 'api', { method: 'GET', path: '/x' }))).toMatchObject({ body: undefined, bodyType: 'none' });
  });

  it('a body that cannot be read one way only makes http.body an error: a deny fires, an allow does not', () => {
    const e = post('{"role":"user","role":"admin"}', { 'content-type': 'application/json' });
    expect(KIND_FACTS.http(e).bodyType).toBe('unreadable');
    const text = (outcome: string, when: string) => `default: { outcome: allow }\nrules:\n  - id: r\n    match: { kind: http }\n    when: ${JSON.stringify(when)}\n    outcome: ${outcome}\n`;
    const run = (outcome: string, when: string) => compilePolicy(text(outcome, when), 'p.yaml', { groupExists: () => true }).policy.evaluate(e);
    expect(run('deny', deny).outcome).toBe('deny');
    expect(run('deny', 'http.method == "GET"').outcome).toBe('allow');
    expect(run('allow', '!has(http.body.role)').rules).toEqual(['default']);
  });
});

describe('the documented patterns for rules over agent-controlled fields (docs/policy.md) hold', () => {
  const e = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) => input('http', 'api', { method: 'POST', path: '/users', headers, body });
  const provablyAbsent = '!(http.bodyType in ["none", "json", "form"]) || (http.bodyType != "none" && http.body.exists(k, k.lowerAscii() == "role"))';

  it('deny-unless-absent fires on any spelling of the field and on opaque bodies, and not on a body without it', () => {
    expect(holds('http', provablyAbsent, e('{"ROLE":"admin"}'))).toBe(true);
    expect(holds('http', provablyAbsent, e('Role=admin', { 'content-type': 'application/x-www-form-urlencoded' }))).toBe(true);
    expect(holds('http', provablyAbsent, e('<user role="admin"/>', { 'content-type': 'application/xml' }))).toBe(true);
    expect(holds('http', provablyAbsent, e('{"name":"x"}'))).toBe(false);
    expect(holds('http', provablyAbsent, input('http', 'api', { method: 'POST', path: '/users' }))).toBe(false);
  });

  it('a deny without has() fires when the field is missing', () => {
    // holds() reports a condition that errored by throwing the decision's reason: the deny applied.
    expect(() => holds('http', 'http.path == "/users" && http.body.role == "admin"', e('{"name":"x"}'))).toThrow('denied by r [its condition failed, so it applies: No such key: role]');
    expect(holds('http', 'http.path == "/users" && http.body.role == "admin"', e('{"role":"viewer"}'))).toBe(false);
  });

  it('an allow on known shapes does not hold for a hidden or other spelling', () => {
    const allow = 'http.path == "/users" && http.bodyType == "json" && http.body.role in ["viewer", "editor"]';
    expect(holds('http', allow, e('{"role":"viewer"}'))).toBe(true);
    expect(() => holds('http', allow, e('{"ROLE":"viewer"}'))).toThrow(/No such key/);
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
    expect(holds('sql', 'sql.dynamic && sql.types.exists(t, t.startsWith("drop_")) && !sql.writes.all(t, t.startsWith("staging."))', i)).toBe(true);
  });
});
