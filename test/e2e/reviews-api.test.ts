import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/types.js';
import { isCountersignError } from '../../src/client/errors.js';
import { raw, startTarget } from './harness.js';
import { reviewsWorkspace, startInProcess, testClock } from './reviews-harness.js';
import type { ReviewsWorkspace } from './reviews-harness.js';

/*
 * Issue 17 through the real HTTP API (the gateway in this process, on a real port, so
 * that its clock is the test's): counters, first-time and time-of-day triggers,
 * shadow rules, standing grants, batch reviews and their metrics.
 */

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: ReviewsWorkspace;
let gw: Awaited<ReturnType<typeof startInProcess>>;
const clock = testClock('2026-01-15T12:00:00Z');
const HOUR = 3_600_000;

beforeAll(async () => {
  target = await startTarget();
  ws = reviewsWorkspace(target.url);
  gw = await startInProcess(ws, clock);
});
afterAll(async () => {
  await gw?.gw.close();
  await target?.close();
  ws?.cleanup();
});

const agent = () => gw.client(ws.tokens.agent);
const human = (who: 'alice' | 'bob' | 'carol' | 'dave' | 'olga' | 'eve') => gw.client(ws.tokens[who]);
const submit = (t: string, method: string, path: string, by = agent()) => by.submit({ kind: 'http', target: t, input: { method: method as 'GET', path }, mode: 'decide' });

async function refusal(p: Promise<unknown>): Promise<{ code: string; status: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isCountersignError(e)) return { code: e.code, status: e.status, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

const reviewsOf = (a: Action) => (a as { review?: { reviews: unknown[] } }).review?.reviews;

async function auditOf(id: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const seqs = await gw.gw.store.auditSeqsFor(id);
  const entries = await gw.gw.store.readAudit(seqs[0]!, seqs.at(-1)! + 1);
  return entries.filter((e) => e.actionId === id);
}

describe('counters', () => {
  it('the sixth deploy within the hour is the first one reviewed, and the window slides', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) outcomes.push((await submit('github', 'POST', `/deploys/${i}`)).decision.outcome);
    expect(outcomes).toEqual(['allow', 'allow', 'allow', 'allow', 'allow', 'review']);
    // Other agents have their own count (by: [agent]).
    expect((await submit('github', 'POST', '/deploys/x', gw.client(ws.tokens.other))).decision.outcome).toBe('allow');
    // Reads do not count: the counter's when is POST only.
    expect((await submit('github', 'GET', '/deploys')).decision.outcome).toBe('allow');
    clock.advance(HOUR + 1000);
    expect((await submit('github', 'POST', '/deploys/later')).decision.outcome).toBe('allow');
  });

  it('a pending review does not count until approved; once approved it does', async () => {
    clock.advance(2 * HOUR);
    for (let i = 0; i < 5; i++) expect((await submit('github', 'POST', `/d2/${i}`)).decision.outcome).toBe('allow');
    const sixth = await submit('github', 'POST', '/d2/5');
    expect(sixth.status).toBe('pending');
    const approved = await human('alice').approve(sixth.id, sixth.fingerprint);
    expect(approved.status).toBe('approved');
    const seventh = await submit('github', 'POST', '/d2/6');
    expect(seventh.decision.reason).toContain('deploy-burst');
  });
});

describe('first-time and time-of-day triggers', () => {
  it('an agent acting on a target for the first time is reviewed; once approved, the next time is not', async () => {
    const first = await submit('fresh', 'POST', '/x');
    expect(first.decision.rules).toContain('first-time-target');
    expect(first.status).toBe('pending');
    // Still the first time while nothing was allowed.
    expect((await submit('fresh', 'POST', '/y')).status).toBe('pending');
    await human('alice').approve(first.id, first.fingerprint);
    expect((await submit('fresh', 'POST', '/z')).decision.outcome).toBe('allow');
    // Another agent's first time is its own.
    expect((await submit('fresh', 'POST', '/z', gw.client(ws.tokens.other))).decision.outcome).toBe('review');
  });

  it('changes before 07:00 Berlin time are reviewed, with the fixed clock on both sides of the hour', async () => {
    clock.set('2026-01-16T05:30:00Z'); // 06:30 in Berlin (UTC+1 in winter)
    const early = await submit('night', 'POST', '/change');
    expect(early.decision.rules).toEqual(['night-changes']);
    expect((await submit('night', 'GET', '/status')).decision.outcome).toBe('allow');
    clock.set('2026-01-16T06:00:00Z'); // 07:00 in Berlin
    expect((await submit('night', 'POST', '/change')).decision.outcome).toBe('allow');
    clock.set('2026-07-16T05:30:00Z'); // 07:30 in Berlin (UTC+2 in summer)
    expect((await submit('night', 'POST', '/change')).decision.outcome).toBe('allow');
    clock.set('2026-01-16T12:00:00Z');
  });
});

describe('shadow rules', () => {
  it('a shadow deny is recorded in the decision, the audit log and the metrics, and not enforced', async () => {
    const del = await submit('night', 'DELETE', '/thing');
    expect(del.status).toBe('approved');
    expect(del.decision.rules).toEqual(['default']);
    expect(del.decision.shadow).toEqual({ rules: ['no-deletes-soon'], outcome: 'deny', disagrees: true });
    const decided = (await auditOf(del.id)).find((e) => e.type === 'action.decided')!;
    expect(decided.data.outcome).toBe('allow');
    expect(decided.data.shadow).toEqual({ rules: ['no-deletes-soon'], outcome: 'deny', disagrees: true });
    const metrics = await (await fetch(`${gw.gw.url}/metrics`)).text();
    expect(metrics).toMatch(/countersign_shadow_disagreements_total\{rule="no-deletes-soon",outcome="deny"\} 1/);
    // Actions the shadow rule does not catch carry no shadow record.
    expect((await submit('night', 'GET', '/x')).decision).not.toHaveProperty('shadow');
  });
});

describe('standing grants', () => {
  async function pendingRelease(path: string): Promise<Action> {
    const a = await submit('github', 'PUT', path);
    expect(a.status).toBe('pending');
    return a;
  }

  it('the reviewer sees the scope in words before approving', async () => {
    const a = await pendingRelease('/releases/words');
    const shown = await human('alice').get(a.id);
    expect(shown.grantable).toMatchObject({ maxTtl: '1h', maxUses: 3, scope: { 'http.method': 'PUT', 'http.path': '/releases/words' } });
    expect(shown.grantable!.text).toContain('http actions of deploy-bot on github that rule releases would send to review, with http.method = "PUT", http.path = "/releases/words"');
  });

  it('a grant needs the quorum: one grantor is not enough, and an approval without a grant creates none', async () => {
    const a = await pendingRelease('/releases/q');
    await human('alice').approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 3 } });
    const done = await human('bob').approve(a.id, a.fingerprint);
    expect(done.status).toBe('approved');
    expect(done).not.toHaveProperty('grant');
    expect((await submit('github', 'PUT', '/releases/q')).status).toBe('pending');
  });

  it('a grant is used until its uses run out, each use in the decision and the audit log; the narrowest terms win', async () => {
    const a = await pendingRelease('/releases/1');
    await human('alice').approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 3 } });
    const done = (await human('bob').approve(a.id, a.fingerprint, 'ok', { grant: { ttl: '30m', uses: 2 } }));
    expect(done.status).toBe('approved');
    expect(done.grant).toMatchObject({ maxUses: 2, expiresAt: new Date(clock.now().getTime() + 30 * 60_000).toISOString() });
    const created = (await auditOf(a.id)).find((e) => e.type === 'grant.created')!;
    expect(created.data).toMatchObject({ grant: done.grant!.id, grantedBy: ['alice@example.com', 'bob@example.com'], maxUses: 2 });

    const u1 = await submit('github', 'PUT', '/releases/1');
    const u2 = await submit('github', 'PUT', '/releases/1');
    expect([u1.status, u2.status]).toEqual(['approved', 'approved']);
    expect(u2.decision.grant).toEqual({ id: done.grant!.id, use: 2, policyOutcome: 'review' });
    expect((await auditOf(u1.id)).find((e) => e.type === 'action.decided')!.data.grant).toEqual({ id: done.grant!.id, use: 1, policyOutcome: 'review' });
    // Used up.
    expect((await submit('github', 'PUT', '/releases/1')).status).toBe('pending');
    // Never beyond its scope: another path, another agent.
    expect((await submit('github', 'PUT', '/releases/2')).status).toBe('pending');
    const g = await human('dave').grants.get(done.grant!.id);
    expect(g).toMatchObject({ status: 'used-up', uses: 2, maxUses: 2 });
  });

  it('a grant is used until its time runs out', async () => {
    const a = await pendingRelease('/releases/t');
    await human('alice').approve(a.id, a.fingerprint, undefined, { grant: { ttl: '10m', uses: 3 } });
    await human('bob').approve(a.id, a.fingerprint, undefined, { grant: { ttl: '10m', uses: 3 } });
    clock.advance(9 * 60_000);
    expect((await submit('github', 'PUT', '/releases/t')).status).toBe('approved');
    clock.advance(60_000);
    expect((await submit('github', 'PUT', '/releases/t')).status).toBe('pending');
  });

  it('the requester\'s owner cannot approve with a grant, and nothing changes', async () => {
    const a = await pendingRelease('/releases/self');
    const r = await refusal(human('carol').approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 3 } }));
    expect(r).toMatchObject({ code: 'SELF_APPROVAL', status: 403 });
    const after = await human('alice').get(a.id);
    expect(after.status).toBe('pending');
    expect(reviewsOf(after)).toEqual([]);
  });

  it('revocation takes effect before the next decision, and only for those who may', async () => {
    const a = await pendingRelease('/releases/r');
    await human('alice').approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 3 } });
    const done = await human('bob').approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 3 } });
    const grant = done.grant!;
    expect((await submit('github', 'PUT', '/releases/r')).status).toBe('approved');
    // eve neither granted it nor approves releases: to her it does not exist.
    expect(await refusal(human('eve').grants.revoke(grant.id))).toMatchObject({ code: 'GRANT_NOT_FOUND', status: 404 });
    expect(await refusal(human('eve').grants.get(grant.id))).toMatchObject({ code: 'GRANT_NOT_FOUND', status: 404 });
    expect((await human('eve').grants.list()).map((g) => g.id)).not.toContain(grant.id);
    expect((await human('dave').grants.list()).map((g) => g.id)).toContain(grant.id);
    expect(await refusal(agent().grants.revoke(grant.id))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    const revoked = await human('dave').grants.revoke(grant.id, 'release window closed');
    expect(revoked).toMatchObject({ status: 'revoked', revokedBy: 'dave@example.com', revokeReason: 'release window closed' });
    expect((await submit('github', 'PUT', '/releases/r')).status).toBe('pending');
    expect(await refusal(human('dave').grants.revoke(grant.id))).toMatchObject({ code: 'GRANT_INACTIVE', status: 409 });
    const listed = await human('dave').grants.list({ active: true });
    expect(listed.map((g) => g.id)).not.toContain(grant.id);
  });

  it('grants beyond the policy\'s bounds, or where it allows none, are refused with nothing changed', async () => {
    const a = await pendingRelease('/releases/bad');
    const tooMany = await refusal(human('alice').approve(a.id, a.fingerprint, undefined, { grant: { ttl: '1h', uses: 4 } }));
    expect(tooMany).toMatchObject({ code: 'GRANT_OUT_OF_BOUNDS', status: 400 });
    const tooLong = await refusal(human('alice').approve(a.id, a.fingerprint, undefined, { grant: { ttl: '2h', uses: 1 } }));
    expect(tooLong).toMatchObject({ code: 'GRANT_OUT_OF_BOUNDS', status: 400 });
    expect(tooLong.message).toContain('maxTtl 1h');
    const malformed = await raw(gw.gw.url, `/v1/actions/${a.id}/approve`, {
      method: 'POST',
      token: ws.tokens.alice,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fingerprint: a.fingerprint, grant: { ttl: 'soon', uses: 1 } }),
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error?.code).toBe('VALIDATION_FAILED');
    expect(reviewsOf(await human('alice').get(a.id))).toEqual([]);

    clock.advance(2 * HOUR);
    for (let i = 0; i < 5; i++) await submit('github', 'POST', `/nogrant/${i}`);
    const burst = await submit('github', 'POST', '/nogrant/5');
    expect(burst.status).toBe('pending');
    expect(await refusal(human('alice').approve(burst.id, burst.fingerprint, undefined, { grant: { ttl: '1m', uses: 1 } }))).toMatchObject({ code: 'GRANT_NOT_ALLOWED', status: 400 });
    expect((await human('alice').get(burst.id)).status).toBe('pending');
    expect(await refusal(human('alice').grants.get('grt_doesnotexist1'))).toMatchObject({ code: 'GRANT_NOT_FOUND', status: 404 });
  });
});

describe('batch decisions and metrics', () => {
  it('approves several actions, each bound to its own fingerprint and checked on its own', async () => {
    clock.set('2026-01-17T05:00:00Z');
    const a = await submit('github', 'PUT', '/releases/b1');
    const b = await submit('github', 'GET', '/allowed');
    const c = await submit('night', 'POST', '/b3');
    expect([a.status, b.status, c.status]).toEqual(['pending', 'approved', 'pending']);
    const results = await human('olga').grants.batch('approve', [
      { id: c.id, fingerprint: c.fingerprint },
      { id: a.id, fingerprint: a.fingerprint },
      { id: b.id, fingerprint: b.fingerprint },
      { id: c.id, fingerprint: c.fingerprint },
    ]);
    expect(results.map((r) => (r.ok ? r.action.status : r.error.code))).toEqual(['approved', 'NOT_ELIGIBLE', 'NOT_ELIGIBLE', 'NOT_PENDING']);
    // Each its own audit entry, via the batch.
    const reviewed = (await auditOf(c.id)).filter((e) => e.type === 'action.reviewed');
    expect(reviewed.map((e) => e.data.via)).toEqual(['api-batch']);
    const denied = await human('alice').grants.batch('deny', [{ id: a.id }], 'not this week');
    expect(denied[0]!.ok && denied[0]!.action.status).toBe('denied');
    const bad = await raw(gw.gw.url, '/v1/reviews', {
      method: 'POST',
      token: ws.tokens.alice,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'approve', items: [{ id: c.id }] }),
    });
    expect(bad.status).toBe(400);
  });

  it('exports time to decision per rule, reviews per reviewer, grant uses and fast approvals', async () => {
    const metrics = await (await fetch(`${gw.gw.url}/metrics`)).text();
    expect(metrics).toMatch(/countersign_review_decision_seconds_count\{rule="releases",outcome="approved"\} [1-9]/);
    expect(metrics).toMatch(/countersign_reviews_by_reviewer_total\{reviewer="olga@example.com",verdict="approve"\} 1/);
    expect(metrics).toMatch(/countersign_grant_uses_total\{rule="releases"\} 4/);
    // The test clock stands still between submission and approval: every approval was "fast".
    expect(metrics).toMatch(/countersign_fast_approvals_total\{reviewer="alice@example.com",rule="deploy-burst"\} 1/);
  });
});
