import { describe, expect, it } from 'vitest';
import { compilePolicy } from './policy-compile.js';

const versionOf = (text: string) => compilePolicy(text, 'p.yaml', { groupExists: () => true }).policy.version;

const BASE = `default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: reads
    match: { kind: http, target: "git*" }
    when: http.method in ["GET", "HEAD"]
    outcome: allow
  - id: no-deletes
    match: { kind: http }
    when: http.method == "DELETE"
    outcome: deny
    reason: Agents never delete through the API
`;

describe('the policy version', () => {
  it('is sha256 of the canonical document, the same on every compile', () => {
    expect(versionOf(BASE)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(versionOf(BASE)).toBe(versionOf(BASE));
  });

  it('does not change with layout, comments, quoting or key order', () => {
    const relaid = `# the same policy, written differently
rules:
  - outcome: allow      # key order differs
    id: reads
    when: 'http.method in ["GET", "HEAD"]'
    match:
      target: git*
      kind: "http"
  - {id: no-deletes, match: {kind: http}, when: http.method == "DELETE", outcome: deny, reason: "Agents never delete through the API"}
default:
  review:
    timeout: 15m
    quorum: 1
    approvers:
      - group:oncall
  outcome: review
`;
    expect(versionOf(relaid)).toBe(versionOf(BASE));
  });

  it.each([
    ['an outcome', BASE.replace('outcome: deny', 'outcome: review\n    review: { approvers: [group:x], timeout: 1m }')],
    ['a condition', BASE.replace('"DELETE"', '"PATCH"')],
    ['a target', BASE.replace('"git*"', '"gh*"')],
    ['a reason', BASE.replace('never delete', 'never remove')],
    ['the rule order', BASE.replace(/( {2}- id: reads[\s\S]*?outcome: allow\n)([\s\S]*)$/, '$2$1')],
    ['a quorum', BASE.replace('quorum: 1', 'quorum: 2')],
    ['a rule id', BASE.replace('id: reads', 'id: reads2')],
  ])('changes with %s', (_what, changed) => {
    expect(changed).not.toBe(BASE);
    expect(versionOf(changed)).not.toBe(versionOf(BASE));
  });

  it('is the version every decision carries', () => {
    const { policy } = compilePolicy(BASE, 'p.yaml', { groupExists: () => true });
    const d = policy.evaluate({
      action: { kind: 'http', target: 'github', input: { method: 'GET', path: '/' }, mode: 'execute' },
      requester: { id: 'a', type: 'agent', labels: {} },
      target: { name: 'github', kind: 'http', labels: {} },
    });
    expect(d.policyVersion).toBe(policy.version);
    expect(policy.ruleCount).toBe(2);
  });
});
