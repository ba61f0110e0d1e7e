import { describe, expect, it } from 'vitest';
import { ACTION_KINDS } from './action.js';
import type { ActionKind } from './action.js';
import { PolicyError, compilePolicy } from './policy-compile.js';
import { KIND_FACT_TYPES, factFieldsAt } from './policy-fact-types.js';
import { KIND_FACTS } from './policy-facts.js';
import type { EvaluationInput } from './policy-types.js';

/** The problems of a one-rule policy whose rule matches `kind` and has this condition. */
function problems(kind: string, when: string): string[] {
  const text = `default: { outcome: allow }\nrules:\n  - id: the-rule\n    match: { kind: ${kind} }\n    when: ${JSON.stringify(when)}\n    outcome: deny\n`;
  try {
    compilePolicy(text, 'p.yaml', { groupExists: () => true });
    return [];
  } catch (e) {
    if (e instanceof PolicyError) return e.issues.map((i) => `${i.line}:${i.column}: ${i.message}`);
    throw e;
  }
}

const sample = (kind: ActionKind, input: Record<string, unknown>, hints?: EvaluationInput['hints']): EvaluationInput => ({
  action: { kind, target: 't', input, mode: 'execute' },
  requester: { id: 'bot', type: 'agent', labels: {} },
  target: { name: 't', kind, host: 'api.example.com', labels: {} },
  ...(hints ? { hints } : {}),
});

describe('typed policy facts', () => {
  it('a mistyped field is refused when the policy loads, naming the rule, the fact and the fields that exist', () => {
    const [p] = problems('http', "http.methd == 'GET'");
    expect(p).toBe('5:17: CEL: rule the-rule: `http` has no field "methd"; its fields: method, host, path, segments, query, body, bodyType, contentType');
  });

  it('a mistyped field of a nested fact is refused with the fields at that level', () => {
    expect(problems('mcp', 'mcp.annotations.readOnlyHnt == true')[0]).toContain('`mcp.annotations` has no field "readOnlyHnt"; its fields: title, readOnlyHint, destructiveHint, idempotentHint, openWorldHint');
    expect(problems('sql', 'sql.statements.exists(s, s.wher)')[0]).toContain('no fact field "wher"');
    expect(problems('sql', 'sql.readonly')[0]).toContain('its fields: statements, types, tables, writes, reads, readOnly,');
    expect(problems('tool', 'tool.comand.startsWith("rm")')[0]).toContain('`tool` has no field "comand"');
  });

  it('a fact used as the wrong type is refused', () => {
    expect(problems('http', 'http.method == 1')[0]).toContain('rule the-rule: no such overload: string == int');
    expect(problems('sql', 'sql.readOnly == "yes"')[0]).toContain('no such overload');
  });

  it('open facts stay dynamic: any key of a body, a query, MCP arguments or a tool input is accepted', () => {
    for (const [kind, when] of [
      ['http', 'http.body.anything.nested == 1 && http.query.whatever == "x"'],
      ['mcp', 'mcp.arguments.path.startsWith("/tmp") && has(mcp.arguments.recursive)'],
      ['tool', 'tool.input.timeout > 1000'],
      ['sql', 'sql.statements.exists(s, s.limit == null || s.limit > 100)'],
    ] as const) {
      expect(problems(kind, when), when).toEqual([]);
    }
  });

  it('a rule matching several kinds is checked against each of their declarations', () => {
    expect(problems('[http, mcp]', 'http.method == "GET" || mcp.tool == "x"')).toEqual([]);
    expect(problems('[http, mcp]', 'mcp.tol == "x"')[0]).toContain('`mcp` has no field "tol"');
  });

  it('every kind declares its facts', () => {
    for (const k of ACTION_KINDS) expect(KIND_FACT_TYPES[k], `kind ${k} has no declaration in policy-fact-types.ts`).toBeDefined();
  });

  it('each declaration names exactly the facts the gateway builds for that kind', () => {
    const built: Record<ActionKind, Record<string, unknown>> = {
      http: KIND_FACTS.http(sample('http', { method: 'POST', path: '/x', body: { a: 1 } })),
      mcp: KIND_FACTS.mcp(sample('mcp', { tool: 'x', arguments: {} }, { annotations: { readOnlyHint: true } })),
      tool: KIND_FACTS.tool(sample('tool', { tool: 'Bash', input: { command: 'ls' }, cwd: '/w' })),
      sql: KIND_FACTS.sql(sample('sql', { sql: 'select 1' })),
      command: KIND_FACTS.command(sample('command', { argv: ['kubectl', 'get', 'pods', '-n', 'shop'] })),
    };
    for (const k of ACTION_KINDS) expect(Object.keys(built[k]).sort(), k).toEqual(factFieldsAt([k])?.sort());
  });
});
