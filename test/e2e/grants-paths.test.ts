import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/types.js';
import { isCountersignError } from '../../src/client/errors.js';
import { startTarget } from './harness.js';
import { reviewsWorkspace, startInProcess, testClock } from './reviews-harness.js';
import type { ReviewsWorkspace } from './reviews-harness.js';

/*
 * Path patterns in standing grants, through the real HTTP API: a reviewer widens the
 * pinned path to `/v1/customers/*\/export` within the policy's grants.paths, and the
 * grant covers other customers' exports and nothing else.
 */

const POLICY = `
default: { outcome: allow }
rules:
  - id: exports
    match: { kind: http, target: github }
    when: http.method == "POST"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 2h, grants: { maxTtl: 1h, maxUses: 5, scope: [agent, target, http.method, http.path], paths: ["/v1/customers/*/export", "/v1/customers/*/*"] } }
  - id: exact-only
    match: { kind: http, target: fresh }
    when: http.method == "POST"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 2h, grants: { maxTtl: 1h, maxUses: 5, scope: [agent, target, http.path] } }
  - id: any-path
    match: { kind: http, target: night }
    when: http.method == "POST"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 2h, grants: { maxTtl: 1h, maxUses: 5, scope: [agent, target] } }
`;

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: ReviewsWorkspace;
let gw: Awaited<ReturnType<typeof startInProcess>>;
const clock = testClock('2026-01-15T12:00:00Z');

beforeAll(async () => {
  target = await startTarget();
  ws = reviewsWorkspace(target.url, POLICY);
  gw = await startInProcess(ws, clock);
});
afterAll(async () => {
  await gw?.gw.close();
  await target?.close();
  ws?.cleanup();
});

const agent = () => gw.client(ws.tokens.agent);
const alice = () => gw.client(ws.tokens.alice);
const post = (t: string, path: string) => agent().submit({ kind: 'http', target: t, input: { method: 'POST', path }, mode: 'decide' });

async function pending(t: string, path: string): Promise<Action> {
  const a = await post(t, path);
  expect(a.status).toBe('pending');
  return a;
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; status: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isCountersignError(e)) return { code: e.code, status: e.status, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('path patterns in standing grants', () => {
  it('the reviewer sees, before approving, how far the path may be widened', async () => {
    const a = await pending('github', '/v1/customers/c1/export');
    const shown = await alice().get(a.id);
    expect(shown.grantable).toMatchObject({ scope: { 'http.path': '/v1/customers/c1/export' }, paths: ['/v1/customers/*/export', '/v1/customers/*/*'] });
    expect(shown.grantable!.text).toContain('approvers may widen the path to /v1/customers/*/export or /v1/customers/*/* (each * is any one path segment)');
  });

  it('a grant with a path pattern allows a matching path and not a non-matching one', async () => {
    const a = await pending('github', '/v1/customers/c1/export');
    const done = await alice().approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 5, path: '/v1/customers/*/export' } });
    expect(done.status).toBe('approved');
    expect(done.grant!.text).toContain('http.path matching /v1/customers/*/export (each * is any one path segment)');
    const g = await alice().grants.get(done.grant!.id);
    expect(g.scope).toEqual({ 'http.method': 'POST', 'http.path': { pattern: '/v1/customers/*/export' } });

    const other = await post('github', '/v1/customers/c2/export');
    expect(other.status).toBe('approved');
    expect(other.decision.grant).toEqual({ id: g.id, use: 1, policyOutcome: 'review' });
    // A trailing slash is the same path to policy.
    expect((await post('github', '/v1/customers/c3/export/')).status).toBe('approved');
    // (Dot segments, empty segments and encoded slashes never get this far: the gateway refuses them at submission; the matcher refuses them too.)
    for (const no of ['/v1/customers/c2/delete', '/v1/customers/c2/x/export', '/v1/customers/export', '/v1/admins/c2/export']) {
      expect((await post('github', no)).status, no).toBe('pending');
    }
    expect((await alice().grants.get(g.id)).uses).toBe(2);
  });

  it('a pattern wider than the policy allows, not matching the action, or malformed is refused and nothing changes', async () => {
    const a = await pending('github', '/v1/customers/c9/report');
    const cases: Array<[string, string]> = [
      ['/v1/*/*/report', 'GRANT_OUT_OF_BOUNDS'],
      ['/*/customers/c9/report', 'GRANT_OUT_OF_BOUNDS'],
      ['/v1/customers/c8/report', 'GRANT_PATH_INVALID'],
      ['/v1/customers/*', 'GRANT_PATH_INVALID'],
      ['/v1/customers/c*/report', 'GRANT_PATH_INVALID'],
      ['/v1/customers/../c9/report', 'GRANT_PATH_INVALID'],
      ['^/v1/customers/.*/report$', 'GRANT_PATH_INVALID'],
      ['/v1/customers/(.*)/report', 'GRANT_PATH_INVALID'],
    ];
    for (const [path, code] of cases) {
      expect(await refusal(alice().approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 5, path } })), path).toMatchObject({ code, status: 400 });
    }
    const after = await alice().get(a.id);
    expect(after.status).toBe('pending');
    expect((after as { review?: { reviews: unknown[] } }).review?.reviews).toEqual([]);
    // Within the second allowed pattern: accepted.
    const ok = await alice().approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 5, path: '/v1/customers/*/*' } });
    expect(ok.grant!.text).toContain('matching /v1/customers/*/*');
  });

  it('a rule that pins the path without paths allows only the exact path', async () => {
    const a = await pending('fresh', '/v1/customers/c1/export');
    const r = await refusal(alice().approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 5, path: '/v1/customers/*/export' } }));
    expect(r.code).toBe('GRANT_OUT_OF_BOUNDS');
    expect(r.message).toContain('the exact path only');
    const done = await alice().approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 5, path: '/v1/customers/c1/export' } });
    expect((await alice().grants.get(done.grant!.id)).scope).toEqual({ 'http.path': '/v1/customers/c1/export' });
    expect((await post('fresh', '/v1/customers/c1/export')).status).toBe('approved');
    expect((await post('fresh', '/v1/customers/c2/export')).status).toBe('pending');
  });

  it('where the policy does not pin the path, a pattern narrows the grant', async () => {
    const a = await pending('night', '/v1/customers/c1/export');
    const done = await alice().approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 5, path: '/v1/customers/*/export' } });
    expect((await alice().grants.get(done.grant!.id)).scope).toEqual({ 'http.path': { pattern: '/v1/customers/*/export' } });
    expect((await post('night', '/v1/customers/c7/export')).status).toBe('approved');
    expect((await post('night', '/v1/orders/o1')).status).toBe('pending');
  });
});
