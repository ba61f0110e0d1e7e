import { describe, expect, it } from 'vitest';
import { PolicyError, compilePolicy } from './policy-compile.js';
import type { GroupLookup } from './policy-compile.js';
import type { SourceIssue } from './yaml-source.js';

const GROUPS = new Set(['oncall', 'release', 'sre']);
const lookup: GroupLookup = { groupExists: (g) => GROUPS.has(g) };

function issues(text: string, groups: GroupLookup = lookup): SourceIssue[] {
  try {
    compilePolicy(text, 'policy.yaml', groups);
  } catch (e) {
    if (e instanceof PolicyError) return e.issues;
    throw e;
  }
  throw new Error('expected the policy to be refused');
}

/** The single issue of a policy, as `line:col: message`. */
function only(text: string, groups?: GroupLookup): string {
  const found = issues(text, groups);
  expect(found, JSON.stringify(found)).toHaveLength(1);
  const i = found[0]!;
  return `${i.line}:${i.column}: ${i.message}`;
}

const head = 'default: { outcome: deny }\nrules:\n';

describe('a bad policy is refused with file, line and a clear message', () => {
  it('is a PolicyError with code POLICY_INVALID whose message lists file:line:col', () => {
    let err: unknown;
    try {
      compilePolicy(`${head}  - id: a\n    outcome: maybe\n`, 'p.yaml', lookup);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).code).toBe('POLICY_INVALID');
    expect((err as PolicyError).message).toContain('p.yaml:4:14: rules[0].outcome: outcome must be one of allow, review, deny');
  });

  it('YAML syntax errors carry their line', () => {
    const found = issues(`${head}  - id: a\n    outcome: allow\n   bad: [\n`);
    expect(found[0]).toMatchObject({ file: 'policy.yaml', line: 5, column: 1 });
  });

  it('an empty file or a document that is not a mapping is refused at line 1', () => {
    expect(only('')).toBe('1:1: the policy must be a mapping (default, rules, counters)');
    expect(only('# just a comment\n')).toBe('1:1: the policy must be a mapping (default, rules, counters)');
    expect(only('- id: a\n')).toBe('1:1: the policy must be a mapping (default, rules, counters)');
  });

  it('duplicate YAML keys are refused', () => {
    expect(only(`${head}  - id: a\n    outcome: allow\n    outcome: deny\n`)).toMatch(/^5:\d+: .*[Uu]nique|^5:\d+: .*duplicate|^5:\d+: .*Map keys must be unique/);
  });

  it.each([
    ['at the top', 'rule: []\ndefault: { outcome: deny }\n', '1:7: unknown key "rule"; expected one of: default, rules, counters'],
    ['in a rule', `${head}  - id: a\n    outcome: allow\n    whn: "true"\n`, '5:10: unknown key "whn"; expected one of: id, match, when, outcome, review, reason, mode'],
    ['in match', `${head}  - id: a\n    match: { kind: http, tagret: x }\n    outcome: allow\n`, '4:34: unknown key "tagret"; expected one of: kind, target, requester, labels'],
    ['in review', `${head}  - id: a\n    outcome: review\n    review: { approvers: [group:sre], timeout: 1m, quorom: 2 }\n`, '5:60: unknown key "quorom"; expected one of: approvers, quorum, timeout, escalate, drift, grants'],
    ['in escalate', `${head}  - id: a\n    outcome: review\n    review: { approvers: [group:sre], timeout: 1h, escalate: { after: 1m, to: [group:oncall], then: x } }\n`, '5:101: unknown key "then"; expected one of: after, to'],
    ['in default', 'default: { outcome: deny, because: x }\n', '1:36: unknown key "because"; expected one of: outcome, review, reason'],
  ])('unknown key %s', (_where, text, expected) => {
    expect(only(text)).toBe(expected);
  });

  it('a CEL condition that does not parse points into the expression', () => {
    expect(only(`${head}  - id: a\n    match: { kind: http }\n    when: http.method ==\n    outcome: deny\n`)).toMatch(/^5:25: CEL: Unexpected token/);
  });

  it('a CEL error inside a quoted condition points at the character', () => {
    expect(only(`${head}  - id: a\n    match: { kind: http }\n    when: "http.method == nope"\n    outcome: deny\n`)).toBe('5:27: unknown variable "nope"; conditions can use action, requester, target, http'.replace('unknown', 'CEL: unknown'));
  });

  it('a condition must be a bool', () => {
    expect(only(`${head}  - id: a\n    when: '"yes"'\n    outcome: deny\n`)).toBe('4:11: when must be a boolean expression; this one is of type string');
    expect(only(`${head}  - id: a\n    when: 1 + 1\n    outcome: deny\n`)).toMatch(/of type int$/);
  });

  it('kind facts are only available to rules that match that kind', () => {
    expect(only(`${head}  - id: a\n    when: http.method == "GET"\n    outcome: allow\n`)).toBe(
      '4:11: CEL: `http` is only available in rules whose match.kind is http (this rule sets no match.kind)',
    );
    expect(only(`${head}  - id: a\n    match: { kind: mcp }\n    when: http.method == "GET"\n    outcome: allow\n`)).toMatch(/this rule matches mcp/);
  });

  it('matches() needs a literal, safe pattern', () => {
    expect(only(`${head}  - id: a\n    match: { kind: http }\n    when: http.path.matches(http.method)\n    outcome: deny\n`)).toMatch(/^5:29: matches\(\) takes a string literal pattern/);
    expect(only(`${head}  - id: a\n    match: { kind: http }\n    when: http.path.matches("^(a+)+$")\n    outcome: deny\n`)).toMatch(/nested repetition/);
    expect(only(`${head}  - id: a\n    match: { kind: http }\n    when: http.path.matches("([a-z]")\n    outcome: deny\n`)).toMatch(/invalid regular expression/);
  });

  it('an unknown group is refused, checked through the callback', () => {
    expect(only(`${head}  - id: a\n    outcome: review\n    review: { approvers: [group:ops], timeout: 5m }\n`)).toBe(
      '5:27: unknown group "ops" (groups come from the config: humans[].groups and groups)',
    );
    expect(() => compilePolicy(`${head}  - id: a\n    outcome: review\n    review: { approvers: [group:ops], timeout: 5m }\n`, 'p', { groupExists: () => true })).not.toThrow();
  });

  it('a duplicate rule id points at the second and names the first', () => {
    expect(only(`${head}  - id: a\n    outcome: allow\n  - id: a\n    outcome: deny\n`)).toBe('5:9: duplicate rule id "a" (first defined at line 3)');
  });

  it('the id "default" is reserved', () => {
    expect(only(`${head}  - id: default\n    outcome: allow\n`)).toMatch(/^3:9: "default" is reserved/);
  });

  it('a bad duration is refused', () => {
    expect(only(`${head}  - id: a\n    outcome: review\n    review: { approvers: [group:sre], timeout: 15 minutes }\n`)).toBe(
      '5:48: timeout must be a duration such as 45s, 15m or 2h (got "15 minutes")',
    );
    expect(only(`${head}  - id: a\n    outcome: review\n    review: { approvers: [group:sre], timeout: 0m }\n`)).toMatch(/timeout must be a duration/);
  });

  it('a bad approver reference is refused', () => {
    expect(only(`${head}  - id: a\n    outcome: review\n    review: { approvers: [sre], timeout: 5m }\n`)).toBe('5:27: approver "sre" must be group:NAME or user:EMAIL');
    expect(only(`${head}  - id: a\n    outcome: review\n    review: { approvers: [], timeout: 5m }\n`)).toBe('5:26: approvers must not be empty');
  });

  it('escalate needs to, and an after shorter than the timeout', () => {
    expect(only(`${head}  - id: a\n    outcome: review\n    review: { approvers: [group:sre], timeout: 1h, escalate: { after: 10m } }\n`)).toBe(
      '5:62: escalate needs "to" (the approvers added when it escalates)',
    );
    expect(only(`${head}  - id: a\n    outcome: review\n    review: { approvers: [group:sre], timeout: 1h, escalate: { after: 1h, to: [group:oncall] } }\n`)).toBe(
      '5:71: escalate.after (1h) must be shorter than the timeout (1h)',
    );
  });

  it('quorum must be an integer >= 1, and reachable when only users are named', () => {
    expect(only(`${head}  - id: a\n    outcome: review\n    review: { approvers: [group:sre], quorum: 0, timeout: 5m }\n`)).toBe(
      '5:47: quorum must be an integer >= 1 (distinct humans); got 0',
    );
    expect(only(`${head}  - id: a\n    outcome: review\n    review: { approvers: [group:sre], quorum: 1.5, timeout: 5m }\n`)).toMatch(/quorum must be an integer/);
    expect(only(`${head}  - id: a\n    outcome: review\n    review: { approvers: [user:a@x.io, user:b@x.io], quorum: 3, timeout: 5m }\n`)).toBe(
      '5:62: quorum 3 can never be met: only 2 user(s) may approve',
    );
  });

  it('review goes with outcome review and only with it', () => {
    expect(only(`${head}  - id: a\n    outcome: review\n`)).toBe('3:5: rule a has outcome review but no "review" (approvers, quorum, timeout)');
    expect(only(`${head}  - id: a\n    outcome: allow\n    review: { approvers: [group:sre], timeout: 5m }\n`)).toBe('5:13: "review" only applies to outcome review (this outcome is allow)');
    expect(only('default: { outcome: review }\n')).toMatch(/default has outcome review but no "review"/);
  });

  it('match values are checked', () => {
    expect(only(`${head}  - id: a\n    match: { kind: shell }\n    outcome: deny\n`)).toBe('4:20: unknown kind "shell"; expected one of: http, mcp, tool, sql, command');
    expect(only(`${head}  - id: a\n    match: { kind: [http, shell] }\n    outcome: deny\n`)).toBe('4:27: unknown kind "shell"; expected one of: http, mcp, tool, sql, command');
    expect(only(`${head}  - id: a\n    match: { target: "a b" }\n    outcome: deny\n`)).toMatch(/target "a b" must be a target name or glob/);
    expect(only(`${head}  - id: a\n    match: { labels: { tier: 1 } }\n    outcome: deny\n`)).toBe('4:30: label values are strings (got 1; quote it: "1")');
    expect(only(`${head}  - id: a\n    match: { kind: [] }\n    outcome: deny\n`)).toBe('4:20: kind must not be empty');
  });

  it('every issue is reported in one pass, in line order', () => {
    const found = issues(
      [
        'rules:',
        '  - id: a',
        '    match: { kind: http }',
        '    when: http.nope(',
        '    outcome: allow',
        '  - id: a',
        '    outcome: review',
        '    review: { approvers: [group:ghosts], quorum: 0, timeout: soon }',
        '  - id: c',
        '    outcome: allow',
        '    extra: 1',
        '',
      ].join('\n'),
    );
    expect(found.map((i) => i.line)).toEqual([4, 6, 8, 8, 8, 11]);
    expect(found.every((i) => i.file === 'policy.yaml' && i.column !== undefined)).toBe(true);
  });
});

describe('warnings do not stop a policy from loading', () => {
  it('a policy without default warns that unmatched actions are denied', () => {
    const { warnings } = compilePolicy('rules: []\n', 'p.yaml', lookup);
    expect(warnings.map((w) => w.message)).toEqual([expect.stringMatching(/^no "default": actions that no rule matches are denied/)]);
  });

  it('a quorum larger than the group warns, when sizes are known', () => {
    const text = `${head}  - id: a\n    outcome: review\n    review: { approvers: [group:release], quorum: 2, timeout: 5m }\n`;
    expect(compilePolicy(text, 'p.yaml', lookup).warnings).toEqual([]);
    const { warnings } = compilePolicy(text, 'p.yaml', { ...lookup, groupSize: (g) => (g === 'release' ? 1 : 5) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ line: 5, message: 'quorum 2 exceeds the 1 configured human(s) who may approve (group:release has 1)' });
    expect(compilePolicy(text, 'p.yaml', { ...lookup, groupSize: () => 2 }).warnings).toEqual([]);
  });
});
