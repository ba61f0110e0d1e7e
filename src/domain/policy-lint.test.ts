import { describe, expect, it } from 'vitest';
import { compilePolicy } from './policy-compile.js';

const groups = { groupExists: () => true };

function warningsOf(outcome: string, when: string, kind = 'http'): string[] {
  const review = outcome === 'review' ? '\n    review: { approvers: [group:sre], timeout: 1h }' : '';
  const text = `default: { outcome: allow }\nrules:\n  - id: r\n    match: { kind: ${kind} }\n    when: '${when}'\n    outcome: ${outcome}${review}\n`;
  return compilePolicy(text, 'p.yaml', groups).warnings.map((w) => `${w.line}:${w.column}: ${w.message}`);
}

describe('policy check warns when a deny or review rule fails open on a field the agent leaves out', () => {
  it.each([
    ['deny', 'has(http.body.role) && http.body.role == "admin"', 'http', 'has(http.body.role)', 12],
    ['review', 'http.method == "POST" && has(http.query.force)', 'http', 'has(http.query.force)', 37],
    ['deny', '"role" in http.body && http.body.role == "admin"', 'http', '"role" in http.body', 12],
    ['deny', 'has(mcp.arguments.path) && mcp.arguments.path.startsWith("/etc")', 'mcp', 'has(mcp.arguments.path)', 12],
    ['deny', 'has(tool.input.command)', 'tool', 'has(tool.input.command)', 12],
    ['review', 'has(tool.cwd) && tool.cwd.startsWith("/srv/")', 'tool', 'has(tool.cwd)', 12],
    ['deny', 'has(action.input.body.role)', 'http', 'has(action.input.body.role)', 12],
  ])('%s when: %s', (outcome, when, kind, written, column) => {
    const w = warningsOf(outcome, when, kind);
    expect(w).toHaveLength(1);
    // The expression starts at column 12 (after `    when: '`); the warning points at the test.
    expect(w[0]).toBe(`5:${column}: this ${outcome} rule depends on ${written}, a field the agent controls: it fails open when the agent leaves the field out or sends it where the rule does not look; see "Rules over agent-controlled fields" in docs/policy.md`);
  });

  it.each([
    ['a deny that compares has() with a bool', 'deny', 'has(http.body.a) == true', 'has(http.body.a)'],
    ['a deny with has() in a ternary\'s condition', 'deny', 'has(http.body.a) ? http.body.a == 1 : false', 'has(http.body.a)'],
    ['a deny with has() under two negations', 'deny', '!(!has(http.body.a))', 'has(http.body.a)'],
  ])('warns for %s (what the test means cannot be told, or it needs the field present)', (_what, outcome, when, written) => {
    expect(warningsOf(outcome, when)).toEqual([expect.stringContaining(`this ${outcome} rule depends on ${written}, a field the agent controls`)]);
  });

  it('warns for an allow rule that needs an agent-controlled field absent: hiding the field allows', () => {
    expect(warningsOf('allow', 'http.method == "POST" && !has(http.body.role)')).toEqual([
      '5:38: this allow rule depends on the absence of has(http.body.role), a field the agent controls: it allows when the agent sends the field where the rule does not look; see "Rules over agent-controlled fields" in docs/policy.md',
    ]);
  });

  it.each([
    ['a deny that fires when the field is absent', 'deny', '!has(http.body.approved) || http.body.approved != true'],
    ['an allow rule', 'allow', 'has(http.body.role) && http.body.role == "user"'],
    ['a deny without has()', 'deny', 'http.body.role == "admin"'],
    ['a deny on gateway facts', 'deny', 'has(mcp.annotations.destructiveHint)'],
    ['a deny on the method', 'deny', 'http.method == "DELETE"'],
  ])('not for %s', (_what, outcome, when) => {
    const kind = when.startsWith('has(mcp') ? 'mcp' : 'http';
    expect(warningsOf(outcome, when, kind)).toEqual([]);
  });

  it('one warning per test, in expression order', () => {
    expect(warningsOf('deny', 'has(http.body.a) || has(http.query.b)').map((w) => w.split(': ')[0])).toEqual(['5:12', '5:32']);
  });
});
