import { describe, expect, it } from 'vitest';
import { CounterBook } from './counter-book.js';
import { grantCovers, grantFromApproval, grantStatus } from './grant.js';
import type { Grant } from './grant.js';
import { applyReview, createAction } from './lifecycle.js';
import { compilePolicy } from './policy-compile.js';
import type { EvaluationInput } from './policy-types.js';

const groups = { groupExists: () => true };
const POLICY = `
default: { outcome: allow }
counters:
  posts: { match: { kind: http }, when: 'http.method == "POST"', by: [agent, target], window: 1h }
  queries: { match: { kind: sql }, by: [agent], window: 1h }
  weighted: { match: { kind: http }, weight: 'size(http.segments)', window: 1h }
rules:
  - id: burst
    match: { kind: http }
    when: counters.posts >= 2
    outcome: review
    review: { approvers: [group:ops], timeout: 1h, grants: { maxTtl: 1h, maxUses: 5, scope: [http.method] } }
  - id: other-review
    match: { kind: http }
    when: http.path == "/other"
    outcome: review
    review: { approvers: [group:ops], timeout: 1h }
  - id: deletes
    match: { kind: http }
    when: http.method == "DELETE"
    outcome: deny
  - id: shadow-puts
    mode: shadow
    match: { kind: http }
    when: http.method == "PUT"
    outcome: review
    review: { approvers: [group:ops], timeout: 1h }
`;
const { policy } = compilePolicy(POLICY, 'p.yaml', groups);
const NOW = Date.parse('2030-01-01T12:00:00Z');

function input(method: string, path = '/x', agent = 'bot', target = 'api', history?: EvaluationInput['history']): EvaluationInput {
  return { action: { kind: 'http', target, input: { method, path }, mode: 'execute' }, requester: { id: agent, type: 'agent', labels: {} }, target: { name: target, kind: 'http', labels: {} }, history };
}

describe('counters in decisions', () => {
  it('a counter counts earlier hits of the same agent and target within the window, and the indexed path agrees with explain', () => {
    const book = new CounterBook();
    const tally = policy.tally(input('POST'));
    expect(tally.find((t) => t.counter === 'posts')).toEqual({ counter: 'posts', key: 'bot\u0000api', weight: 1, on: 'allowed' });
    book.add({ actionId: 'a1', counter: 'posts', key: 'bot\u0000api', weight: 1, atMs: NOW - 50 * 60_000 });
    expect(policy.evaluate(input('POST', '/x', 'bot', 'api', book.view(NOW))).outcome).toBe('allow');
    book.add({ actionId: 'a2', counter: 'posts', key: 'bot\u0000api', weight: 1, atMs: NOW - 10 * 60_000 });
    // A repeat of the same (action, counter) adds nothing.
    book.add({ actionId: 'a2', counter: 'posts', key: 'bot\u0000api', weight: 1, atMs: NOW - 10 * 60_000 });
    const e = input('POST', '/x', 'bot', 'api', book.view(NOW));
    expect(policy.evaluate(e).rules).toEqual(['burst']);
    expect(policy.explain(e).decision).toEqual(policy.evaluate(e));
    // Another target, another agent: their own counts.
    expect(policy.evaluate(input('POST', '/x', 'bot', 'db', book.view(NOW))).outcome).toBe('allow');
    expect(policy.evaluate(input('POST', '/x', 'other', 'api', book.view(NOW))).outcome).toBe('allow');
    // Eleven minutes later the first hit has left the window.
    expect(policy.evaluate(input('POST', '/x', 'bot', 'api', book.view(NOW + 11 * 60_000))).outcome).toBe('allow');
  });

  it('weights: at least 1, a CEL weight as written, sql statements by default', () => {
    expect(policy.tally(input('GET', '/a/b/c')).find((t) => t.counter === 'weighted')!.weight).toBe(3);
    expect(policy.tally(input('GET', '/')).find((t) => t.counter === 'weighted')!.weight).toBe(1);
    const sql: EvaluationInput = {
      action: { kind: 'sql', target: 'db', input: { statement: 'select 1; select 2' }, mode: 'execute' },
      requester: { id: 'bot', type: 'agent', labels: {} },
      target: { name: 'db', kind: 'postgres', labels: {} },
      hints: { sql: { statements: [{}, {}] } as never },
    };
    expect(policy.tally(sql)).toEqual([{ counter: 'queries', key: 'bot', weight: 2, on: 'allowed' }]);
  });

  it('a forgotten reservation no longer counts', () => {
    const book = new CounterBook();
    for (const id of ['a', 'b']) book.add({ actionId: id, counter: 'posts', key: 'k', weight: 1, atMs: NOW - 1 });
    book.remove('b', 'posts', 'k');
    expect(book.count('posts', 'k', 3_600_000, NOW)).toBe(1);
    book.acted('bot', 'api');
    expect(book.firstTime('bot', 'api')).toBe(false);
    book.forget('bot', 'api');
    expect(book.firstTime('bot', 'api')).toBe(true);
    expect(book.firstTime('bot', undefined)).toBe(true);
  });
});

describe('shadow rules', () => {
  it('record what enforcing them would decide, without changing the decision', () => {
    const d = policy.evaluate(input('PUT'));
    expect(d.outcome).toBe('allow');
    expect(d.shadow).toEqual({ rules: ['shadow-puts'], outcome: 'review', disagrees: true });
    expect(policy.explain(input('PUT')).decision).toEqual(d);
    expect(policy.evaluate(input('GET')).shadow).toBeUndefined();
  });
});

describe('standing grants', () => {
  const book = new CounterBook();
  for (const id of ['a', 'b']) book.add({ actionId: id, counter: 'posts', key: 'bot\u0000api', weight: 1, atMs: NOW - 60_000 });
  const view = book.view(NOW);
  const grant: Grant = {
    id: 'grt_x',
    actionId: 'act_x',
    ruleIds: ['burst'],
    ruleDigests: { burst: policy.ruleDigest('burst')! },
    policyVersion: policy.version,
    kind: 'http',
    agent: 'bot',
    target: 'api',
    scope: { 'http.method': 'POST' },
    text: '',
    approvers: ['group:ops'],
    grantedBy: ['a@x'],
    createdAt: new Date(NOW - 1000).toISOString(),
    expiresAt: new Date(NOW + 60_000).toISOString(),
    maxUses: 2,
    uses: 0,
  };
  const digest = (id: string) => policy.ruleDigest(id);

  it('covers the review its rule asks for, with the same pinned facts', () => {
    const e = input('POST', '/x', 'bot', 'api', view);
    expect(grantCovers(grant, policy.evaluate(e), e, NOW, digest)).toBe(true);
  });

  it('never covers a deny, another review rule, another method, or once used up, expired or its rule changed', () => {
    const other = input('POST', '/other', 'bot', 'api', view);
    expect(policy.evaluate(other).requirements.map((r) => r.ruleId)).toEqual(['burst', 'other-review']);
    expect(grantCovers(grant, policy.evaluate(other), other, NOW, digest)).toBe(false);
    const del = input('DELETE', '/x', 'bot', 'api', view);
    expect(grantCovers(grant, policy.evaluate(del), del, NOW, digest)).toBe(false);
    const e = input('POST', '/x', 'bot', 'api', view);
    const d = policy.evaluate(e);
    expect(grantCovers({ ...grant, scope: { 'http.method': 'PATCH' } }, d, e, NOW, digest)).toBe(false);
    expect(grantCovers({ ...grant, uses: 2 }, d, e, NOW, digest)).toBe(false);
    expect(grantCovers(grant, d, e, NOW + 60_000, digest)).toBe(false);
    const changed = compilePolicy(POLICY.replace('counters.posts >= 2', 'counters.posts >= 3'), 'p.yaml', groups).policy;
    expect(grantStatus(grant, NOW, (id) => changed.ruleDigest(id))).toBe('ended');
    // Another rule's change leaves it active.
    const elsewhere = compilePolicy(POLICY.replace('http.path == "/other"', 'http.path == "/elsewhere"'), 'p.yaml', groups).policy;
    expect(grantStatus(grant, NOW, (id) => elsewhere.ruleDigest(id))).toBe('active');
  });

  it('is created only when the approvals asking for it meet the quorum themselves', () => {
    const created = createAction({
      id: 'act_0123456789ab',
      request: { kind: 'http', target: 'api', input: { method: 'POST', path: '/x' } },
      requester: { id: 'bot', type: 'agent', owner: 'o@x' },
      decision: { outcome: 'review', rules: ['burst'], policyVersion: 'v', reason: 'r', requirements: [{ ruleId: 'burst', approvers: ['group:ops'], quorum: 2, timeoutMs: 3_600_000, grants: { maxTtlMs: 3_600_000, maxUses: 5, scope: [] } }] },
      now: new Date(NOW),
    }).next;
    const a = { ...created, grantScope: {} };
    const p = { version: 'v', digestOf: digest };
    const one = applyReview(a, { type: 'human', id: 'x@x', groups: ['ops'] }, 'approve', { fingerprint: a.fingerprint, via: 'api', now: new Date(NOW) }).next;
    one.review!.reviews[0] = { ...one.review!.reviews[0]!, grant: { ttlMs: 60_000, uses: 3 } };
    const two = applyReview(one, { type: 'human', id: 'y@x', groups: ['ops'] }, 'approve', { fingerprint: a.fingerprint, via: 'api', now: new Date(NOW) }).next;
    expect(two.status).toBe('approved');
    expect(grantFromApproval(two, { requester: 'bot', owner: 'o@x' }, p, 'grt_1', new Date(NOW))).toBeUndefined();
    two.review!.reviews[1] = { ...two.review!.reviews[1]!, grant: { ttlMs: 120_000, uses: 1 } };
    const g = grantFromApproval(two, { requester: 'bot', owner: 'o@x' }, p, 'grt_1', new Date(NOW))!;
    expect(g).toMatchObject({ maxUses: 1, expiresAt: new Date(NOW + 60_000).toISOString(), grantedBy: ['x@x', 'y@x'], ruleIds: ['burst'] });
  });
});
