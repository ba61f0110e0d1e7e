import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/types.js';
import { startTarget, until } from './harness.js';
import { reviewsWorkspace, startInProcess, testClock } from './reviews-harness.js';
import type { ReviewsWorkspace } from './reviews-harness.js';

/*
 * grant.ended, through the real HTTP API: a grant that runs out of uses, expires,
 * is revoked or whose rule the policy changes gets exactly one audit entry saying so
 * and why. Uses and revocations write it in their own transaction; expiry and policy
 * changes are recorded by the sweep on the scheduler's tick (every 100 ms here).
 */

const POLICY = `
default: { outcome: allow }
rules:
  - id: releases
    match: { kind: http, target: github }
    when: http.method == "PUT"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 2h, grants: { maxTtl: 1h, maxUses: 5, scope: [agent, target, http.method, http.path] } }
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
const put = (path: string) => agent().submit({ kind: 'http', target: 'github', input: { method: 'PUT', path }, mode: 'decide' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function granted(path: string, ttl: string, uses: number): Promise<string> {
  const a: Action = await put(path);
  expect(a.status).toBe('pending');
  const done = await alice().approve(a.id, a.fingerprint, undefined, { grant: { ttl, uses } });
  return done.grant!.id;
}

async function endedEntries(grant: string): Promise<Array<{ ts: string; data: Record<string, unknown> }>> {
  const size = await gw.gw.store.auditSize();
  const entries = await gw.gw.store.readAudit(0, size);
  return entries.filter((e) => e.type === 'grant.ended' && e.data.grant === grant);
}

describe('grant.ended', () => {
  it('the use that leaves none ends the grant, once, even with decisions racing for the last uses', async () => {
    const id = await granted('/releases/used', '1h', 3);
    const racing = await Promise.all(Array.from({ length: 8 }, () => put('/releases/used')));
    expect(racing.filter((a) => a.decision.grant?.id === id)).toHaveLength(3);
    const ended = await endedEntries(id);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.data).toMatchObject({ grant: id, reason: 'used-up', uses: 3, maxUses: 3 });
    await sleep(300); // a few sweeps later: still one
    expect(await endedEntries(id)).toHaveLength(1);
    expect(await alice().grants.get(id)).toMatchObject({ status: 'used-up', endReason: 'used-up' });
  });

  it('a grant past its time is recorded as expired by the sweep, once, at its expiry', async () => {
    const id = await granted('/releases/time', '10m', 5);
    expect((await put('/releases/time')).status).toBe('approved');
    expect(await endedEntries(id)).toHaveLength(0);
    const g = await alice().grants.get(id);
    clock.advance(10 * 60_000 + 1);
    await until(() => endedEntries(id), (e) => e.length > 0, 5000);
    await sleep(300);
    const ended = await endedEntries(id);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.ts).toBe(g.expiresAt);
    expect(ended[0]!.data).toMatchObject({ reason: 'expired', uses: 1, maxUses: 5 });
    expect((await put('/releases/time')).status).toBe('pending');
  });

  it('revocation ends the grant with its grant.revoked entry, once', async () => {
    const id = await granted('/releases/revoke', '1h', 5);
    await alice().grants.revoke(id, 'done');
    const ended = await endedEntries(id);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.data).toMatchObject({ reason: 'revoked', uses: 0 });
    await sleep(300);
    expect(await endedEntries(id)).toHaveLength(1);
  });

  it('a policy change touching its rule ends the grant, once; it is never used again, even if the rule comes back', async () => {
    const id = await granted('/releases/policy', '1h', 5);
    const before = readFileSync(ws.policyPath, 'utf8');
    writeFileSync(ws.policyPath, before.replace('maxUses: 5', 'maxUses: 4'));
    await gw.gw.reload('test');
    await until(() => endedEntries(id), (e) => e.length > 0, 5000);
    const ended = await endedEntries(id);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.data).toMatchObject({ reason: 'policy-changed', rules: ['releases'] });
    writeFileSync(ws.policyPath, before);
    await gw.gw.reload('test');
    expect((await put('/releases/policy')).status).toBe('pending');
    expect(await alice().grants.get(id)).toMatchObject({ status: 'ended', endReason: 'policy-changed' });
    await sleep(300);
    expect(await endedEntries(id)).toHaveLength(1);
  });
});
