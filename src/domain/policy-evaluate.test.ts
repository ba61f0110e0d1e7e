import { describe, expect, it } from 'vitest';
import { compilePolicy } from './policy-compile.js';
import type { CompiledPolicy, EvaluationInput } from './policy-types.js';

function policyOf(text: string): CompiledPolicy {
  return compilePolicy(text, 'policy.yaml', { groupExists: () => true }).policy;
}

interface InputOptions {
  kind?: string;
  target?: string;
  input?: Record<string, unknown>;
  requester?: string;
  requesterLabels?: Record<string, string>;
  targetLabels?: Record<string, string>;
}

function input(o: InputOptions = {}): EvaluationInput {
  const kind = o.kind ?? 'http';
  const target = o.target ?? 'github';
  return {
    action: { kind, target, input: o.input ?? { method: 'GET', path: '/' }, mode: 'execute' },
    requester: { id: o.requester ?? 'deploy-bot', type: 'agent', owner: 'alice@example.com', labels: o.requesterLabels ?? {} },
    target: { name: target, kind, host: 'api.github.com', labels: o.targetLabels ?? {} },
  };
}

const http = (method: string, path = '/', extra: Partial<InputOptions> = {}) => input({ ...extra, input: { method, path } });

/** The example policy from the product spec, verbatim. */
const SPEC_POLICY = `default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: reads
    match: { kind: http, target: "git*" }
    when: http.method in ["GET", "HEAD"]
    outcome: allow
  - id: releases
    match: { kind: http, target: github }
    when: http.method == "POST" && http.path.matches("^/repos/[^/]+/[^/]+/releases$")
    outcome: review
    review: { approvers: [group:release], quorum: 2, timeout: 30m, escalate: { after: 10m, to: [group:oncall] } }
  - id: no-deletes
    match: { kind: http }
    when: http.method == "DELETE"
    outcome: deny
    reason: Agents never delete through the API
`;

describe('the example policy of the product spec', () => {
  const p = policyOf(SPEC_POLICY);

  it('allows reads on git* targets', () => {
    expect(p.evaluate(http('GET', '/repos/a/b'))).toEqual({ outcome: 'allow', rules: ['reads'], policyVersion: p.version, reason: 'allowed by reads', requirements: [] });
    expect(p.evaluate(http('HEAD', '/', { target: 'gitlab' })).outcome).toBe('allow');
  });

  it('sends a release to two release managers, escalating to on-call', () => {
    expect(p.evaluate(http('POST', '/repos/acme/app/releases'))).toEqual({
      outcome: 'review',
      rules: ['releases'],
      policyVersion: p.version,
      reason: 'review required by releases: 2 approvals from group:release',
      requirements: [{ ruleId: 'releases', approvers: ['group:release'], quorum: 2, timeoutMs: 30 * 60_000, escalate: { afterMs: 10 * 60_000, to: ['group:oncall'] } }],
    });
  });

  it('denies deletes with the rule\'s reason', () => {
    expect(p.evaluate(http('DELETE', '/repos/acme/app'))).toEqual({
      outcome: 'deny',
      rules: ['no-deletes'],
      policyVersion: p.version,
      reason: 'denied by no-deletes: Agents never delete through the API',
      requirements: [],
    });
  });

  it('sends anything else to the default review', () => {
    expect(p.evaluate(http('PUT', '/repos/acme/app'))).toEqual({
      outcome: 'review',
      rules: ['default'],
      policyVersion: p.version,
      reason: 'no rule matched: default review',
      requirements: [{ ruleId: 'default', approvers: ['group:oncall'], quorum: 1, timeoutMs: 15 * 60_000 }],
    });
    // A release path on a target the release rule does not name is not a release.
    expect(p.evaluate(http('POST', '/repos/acme/app/releases', { target: 'gitlab' })).rules).toEqual(['default']);
  });
});

describe('the strictest fired rule decides', () => {
  const p = policyOf(`default: { outcome: allow }
rules:
  - { id: a-allow, match: { kind: http }, when: 'http.path.startsWith("/a")', outcome: allow }
  - id: b-review
    match: { kind: http }
    when: 'http.path.startsWith("/a/b")'
    outcome: review
    review: { approvers: [group:x], timeout: 5m }
  - { id: c-deny, match: { kind: http }, when: 'http.path.startsWith("/a/b/c")', outcome: deny }
  - id: d-review
    match: { kind: http }
    when: 'http.path.endsWith("/d")'
    outcome: review
    review: { approvers: [user:bob@example.com, group:y], quorum: 2, timeout: 1h }
    reason: d is sensitive
`);

  it('deny beats review and allow, and every fired rule is listed in policy order', () => {
    const d = p.evaluate(http('GET', '/a/b/c/d'));
    expect(d.outcome).toBe('deny');
    expect(d.rules).toEqual(['a-allow', 'b-review', 'c-deny', 'd-review']);
    expect(d.requirements).toEqual([]);
    expect(d.reason).toBe('denied by c-deny');
  });

  it('review beats allow, and every fired review rule adds its requirement', () => {
    const d = p.evaluate(http('GET', '/a/b/d'));
    expect(d.outcome).toBe('review');
    expect(d.rules).toEqual(['a-allow', 'b-review', 'd-review']);
    expect(d.requirements.map((r) => [r.ruleId, r.quorum, r.approvers])).toEqual([
      ['b-review', 1, ['group:x']],
      ['d-review', 2, ['user:bob@example.com', 'group:y']],
    ]);
    expect(d.reason).toBe('review required by b-review: 1 approval from group:x; d-review: 2 approvals from user:bob@example.com or group:y (d is sensitive)');
  });

  it('allow only when nothing stricter fired', () => {
    expect(p.evaluate(http('GET', '/a'))).toMatchObject({ outcome: 'allow', rules: ['a-allow'], requirements: [] });
  });

  it('each decision gets its own copy of the requirements', () => {
    const first = p.evaluate(http('GET', '/a/b'));
    first.requirements[0]!.approvers.push('group:intruder');
    first.requirements[0]!.quorum = 0;
    expect(p.evaluate(http('GET', '/a/b')).requirements[0]).toMatchObject({ approvers: ['group:x'], quorum: 1 });
  });
});

describe('the default', () => {
  it('applies when no rule fires', () => {
    const p = policyOf('default: { outcome: allow, reason: open by default }\nrules:\n  - { id: x, match: { target: other }, outcome: deny }\n');
    expect(p.evaluate(http('GET'))).toMatchObject({ outcome: 'allow', rules: ['default'], reason: 'no rule matched: default allow: open by default', requirements: [] });
  });

  it('is deny when absent: fail closed', () => {
    const p = policyOf('rules:\n  - { id: x, match: { target: other }, outcome: allow }\n');
    expect(p.evaluate(http('GET'))).toMatchObject({ outcome: 'deny', rules: ['default'], reason: 'no rule matched: default deny', requirements: [] });
  });
});

describe('a condition that cannot be evaluated fails closed', () => {
  const p = policyOf(`default: { outcome: allow }
rules:
  - { id: allow-flag, match: { kind: http }, when: 'http.body.safe == true', outcome: allow }
  - id: review-size
    match: { kind: http }
    when: 'http.body.size > 10'
    outcome: review
    review: { approvers: [group:x], timeout: 5m }
  - { id: deny-owner, match: { kind: http }, when: 'http.body.owner == "root"', outcome: deny, reason: root is off limits }
`);

  it('a deny rule whose condition errors fires, and the reason says why', () => {
    const d = p.evaluate(input({ input: { method: 'POST', path: '/', body: { safe: true, size: 1 } } }));
    expect(d.outcome).toBe('deny');
    expect(d.rules).toEqual(['allow-flag', 'deny-owner']);
    expect(d.reason).toBe('denied by deny-owner: root is off limits [its condition failed, so it applies: No such key: owner]');
  });

  it('a review rule whose condition errors fires with its requirement', () => {
    const d = p.evaluate(input({ input: { method: 'POST', path: '/', body: { owner: 'me' } } }));
    expect(d.outcome).toBe('review');
    expect(d.rules).toEqual(['review-size']);
    expect(d.requirements.map((r) => r.ruleId)).toEqual(['review-size']);
    expect(d.reason).toMatch(/^review required by review-size: 1 approval from group:x \[its condition failed, so it applies: /);
  });

  it('an allow rule whose condition errors does not fire', () => {
    const d = p.evaluate(input({ input: { method: 'POST', path: '/', body: { size: 1, owner: 'me' } } }));
    expect(d).toMatchObject({ outcome: 'allow', rules: ['default'] });
  });

  it('a condition that is not a bool counts as an error', () => {
    const q = policyOf(`default: { outcome: allow }
rules:
  - { id: deny-flag, match: { kind: http }, when: http.body.flag, outcome: deny }
  - { id: allow-flag, match: { kind: http }, when: http.body.flag, outcome: allow }
`);
    expect(q.evaluate(input({ input: { method: 'POST', path: '/', body: { flag: true } } }))).toMatchObject({ outcome: 'deny', rules: ['deny-flag', 'allow-flag'] });
    expect(q.evaluate(input({ input: { method: 'POST', path: '/', body: { flag: false } } }))).toMatchObject({ outcome: 'allow', rules: ['default'] });
    const d = q.evaluate(input({ input: { method: 'POST', path: '/', body: { flag: 'yes' } } }));
    expect(d).toMatchObject({ outcome: 'deny', rules: ['deny-flag'] });
    expect(d.reason).toContain('the condition gave string, not bool');
  });

  it('a rule for several kinds fails closed on the facts of the other kind, unless it guards on action.kind', () => {
    const q = policyOf(`default: { outcome: allow }
rules:
  - { id: unguarded, match: { kind: [http, mcp] }, when: 'http.method == "DELETE"', outcome: deny }
  - { id: guarded, match: { kind: [http, mcp] }, when: 'action.kind == "http" && http.method == "DELETE"', outcome: deny }
`);
    expect(q.evaluate(input({ kind: 'mcp', target: 'linear', input: { tool: 'x' } })).rules).toEqual(['unguarded']);
    expect(q.evaluate(http('GET')).rules).toEqual(['default']);
    expect(q.evaluate(http('DELETE')).rules).toEqual(['unguarded', 'guarded']);
  });
});

describe('match', () => {
  it('kind: a string or a list; a rule without kind matches every kind, even one the policy cannot name', () => {
    const p = policyOf(`default: { outcome: allow }
rules:
  - { id: http-only, match: { kind: http }, outcome: deny }
  - { id: mcp-or-tool, match: { kind: [mcp, tool] }, outcome: deny }
  - { id: any, outcome: deny }
`);
    expect(p.evaluate(input({ kind: 'http' })).rules).toEqual(['http-only', 'any']);
    expect(p.evaluate(input({ kind: 'mcp' })).rules).toEqual(['mcp-or-tool', 'any']);
    expect(p.evaluate(input({ kind: 'tool' })).rules).toEqual(['mcp-or-tool', 'any']);
    expect(p.evaluate(input({ kind: 'sql' })).rules).toEqual(['any']);
  });

  it('target: an exact name, a glob, or a list of both', () => {
    const p = policyOf(`default: { outcome: allow }
rules:
  - { id: exact, match: { target: github }, outcome: deny }
  - { id: glob, match: { target: "git*" }, outcome: deny }
  - { id: list, match: { target: [gitlab, "*-prod"] }, outcome: deny }
  - { id: one-char, match: { target: "db?" }, outcome: deny }
`);
    expect(p.evaluate(input({ target: 'github' })).rules).toEqual(['exact', 'glob']);
    expect(p.evaluate(input({ target: 'gitlab' })).rules).toEqual(['glob', 'list']);
    expect(p.evaluate(input({ target: 'db-prod' })).rules).toEqual(['list']);
    expect(p.evaluate(input({ target: 'db1' })).rules).toEqual(['one-char']);
    expect(p.evaluate(input({ target: 'db12' })).rules).toEqual(['default']);
  });

  it('requester: agent id globs', () => {
    const p = policyOf(`default: { outcome: allow }
rules:
  - { id: sandbox, match: { requester: "sandbox-*" }, outcome: deny }
  - { id: named, match: { requester: [deploy-bot, ci-bot] }, outcome: deny }
`);
    expect(p.evaluate(input({ requester: 'sandbox-3' })).rules).toEqual(['sandbox']);
    expect(p.evaluate(input({ requester: 'ci-bot' })).rules).toEqual(['named']);
    expect(p.evaluate(input({ requester: 'prod-bot' })).rules).toEqual(['default']);
  });

  it('labels: all must equal, read from requester labels overridden by target labels', () => {
    const p = policyOf(`default: { outcome: allow }
rules:
  - { id: prod, match: { labels: { env: prod } }, outcome: deny }
  - { id: prod-payments, match: { labels: { env: prod, team: payments } }, outcome: deny }
`);
    expect(p.evaluate(input({ targetLabels: { env: 'prod' } })).rules).toEqual(['prod']);
    expect(p.evaluate(input({ requesterLabels: { env: 'prod' } })).rules).toEqual(['prod']);
    expect(p.evaluate(input({ requesterLabels: { team: 'payments' }, targetLabels: { env: 'prod' } })).rules).toEqual(['prod', 'prod-payments']);
    // The target's label wins over the requester's.
    expect(p.evaluate(input({ requesterLabels: { env: 'prod' }, targetLabels: { env: 'staging' } })).rules).toEqual(['default']);
    expect(p.evaluate(input({ targetLabels: { env: 'production' } })).rules).toEqual(['default']);
    // Only own labels count, not inherited properties.
    expect(p.evaluate(input({ targetLabels: Object.create({ env: 'prod' }) as Record<string, string> })).rules).toEqual(['default']);
  });

  it('every part of match must hold before the condition is looked at', () => {
    const p = policyOf(`default: { outcome: allow }
rules:
  - { id: all, match: { kind: http, target: github, requester: "deploy-*", labels: { env: prod } }, when: 'http.method == "POST"', outcome: deny }
`);
    const hit = { input: { method: 'POST', path: '/' }, targetLabels: { env: 'prod' } };
    expect(p.evaluate(input(hit)).rules).toEqual(['all']);
    expect(p.evaluate(input({ ...hit, target: 'gitlab' })).rules).toEqual(['default']);
    expect(p.evaluate(input({ ...hit, requester: 'ci-bot' })).rules).toEqual(['default']);
    expect(p.evaluate(input({ ...hit, targetLabels: {} })).rules).toEqual(['default']);
    expect(p.evaluate(input({ ...hit, input: { method: 'GET', path: '/' } })).rules).toEqual(['default']);
  });
});

describe('explain', () => {
  const p = policyOf(SPEC_POLICY);

  it('reaches the same decision as evaluate and says, per rule, what held', () => {
    const i = http('POST', '/repos/a/b/releases');
    const t = p.explain(i);
    expect(t.decision).toEqual(p.evaluate(i));
    expect(t.rules).toEqual([
      expect.objectContaining({ ruleId: 'reads', line: 3, match: { held: true }, condition: { expression: 'http.method in ["GET", "HEAD"]', value: false }, fired: false }),
      expect.objectContaining({ ruleId: 'releases', line: 7, match: { held: true }, fired: true, requirement: expect.objectContaining({ quorum: 2 }) as unknown }),
      expect.objectContaining({ ruleId: 'no-deletes', line: 12, fired: false }),
    ]);
  });

  it('names the part of match that failed and the condition error', () => {
    const t = p.explain(input({ target: 'jira', input: { method: 'DELETE' } }));
    expect(t.rules[0]).toMatchObject({ ruleId: 'reads', match: { held: false, failed: 'target' }, fired: false });
    expect(t.rules[0]!.condition).toBeUndefined();
    const t2 = p.explain(input({ input: { method: 'POST' } }));
    expect(t2.rules[1]).toMatchObject({ ruleId: 'releases', condition: { error: 'No such key: path' }, fired: true });
  });
});
