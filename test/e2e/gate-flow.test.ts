import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/client/errors.js';
import { laterReadDone, runCli, until, useServer } from './harness.js';

const ctx = useServer();

async function refusal(p: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CountersignError) return { status: e.status, code: e.code };
    throw e;
  }
  throw new Error('expected a refusal');
}

const forPath = (path: string) => ctx.target.received.filter((r) => r.url.startsWith(`/api${path}`));

describe('the gate, end to end', () => {
  it('executes an allowed read with the credential the agent never held', async () => {
    const agent = ctx.server.client(ctx.ws.tokens.agent);
    const a = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/app', query: { per_page: '5' } } });
    expect(a.decision).toMatchObject({ outcome: 'allow', rules: ['reads'] });
    expect(a.decision.policyVersion).toMatch(/^sha256:[0-9a-f]{64}$/);
    const done = await agent.wait(a.id, { timeoutSeconds: 10 });
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ ok: true, status: 200, body: { ok: true, method: 'GET', url: '/api/repos/acme/app?per_page=5' } });
    const hits = forPath('/repos/acme/app');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.headers.authorization).toBe(`Bearer ${ctx.ws.tokens.target}`);
    expect(JSON.stringify(done)).not.toContain(ctx.ws.tokens.target);
  });

  it('with ?wait, runs an allowed action within its POST and answers with the result, once', async () => {
    const agent = ctx.server.client(ctx.ws.tokens.agent);
    const a = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/inline' } }, { waitSeconds: 10 });
    expect(a.status).toBe('succeeded');
    expect(a.result).toMatchObject({ ok: true, status: 200 });
    expect(forPath('/repos/acme/inline')).toHaveLength(1);
    // An Idempotency-Key replay with ?wait answers the same action; it never runs again.
    const key = `inline-${Date.now()}`;
    const first = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/inline2' } }, { waitSeconds: 10, idempotencyKey: key });
    const again = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/inline2' } }, { waitSeconds: 10, idempotencyKey: key });
    expect(again.id).toBe(first.id);
    expect(again.status).toBe('succeeded');
    expect(forPath('/repos/acme/inline2')).toHaveLength(1);
  });

  it('with ?wait, a review is long-polled: the POST answers once a human approves, or pending when the wait ends', async () => {
    const agent = ctx.server.client(ctx.ws.tokens.agent);
    const pending = await agent.submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/quick/still' } }, { waitSeconds: 1 });
    expect(pending.status).toBe('pending');
    const input = { method: 'PUT' as const, path: '/quick/approved' };
    const waiting = agent.submit({ kind: 'http', target: 'github', input }, { waitSeconds: 20 });
    const seen = await until(() => ctx.server.client(ctx.ws.tokens.alice).list({ status: ['pending'] }), (p) => p.actions.some((x) => x.input.path === '/quick/approved'));
    const mine = seen.actions.find((x) => x.input.path === '/quick/approved')!;
    await ctx.server.client(ctx.ws.tokens.alice).approve(mine.id, mine.fingerprint);
    const done = await waiting;
    expect(done.id).toBe(mine.id);
    expect(['running', 'succeeded']).toContain(done.status);
  });

  it('never lets a denied delete reach the target', async () => {
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'DELETE', path: '/repos/acme/doomed' } });
    expect(a.status).toBe('denied');
    expect(a.decision).toMatchObject({ outcome: 'deny', rules: ['no-deletes'] });
    expect(a.decision.reason).toContain('Agents never delete through the API');
    // Positive signals first: the denial is final in the record, and a read submitted after
    // it has been executed; only then is the target's silence about the delete meaningful.
    expect((await ctx.server.client(ctx.ws.tokens.agent).get(a.id)).status).toBe('denied');
    await laterReadDone(ctx);
    expect(forPath('/repos/acme/doomed')).toHaveLength(0);
    expect((await ctx.server.client(ctx.ws.tokens.agent).get(a.id)).result).toBeUndefined();
  });

  it('runs the review path: parties, outsiders, wrong fingerprints and repeats are refused; two distinct humans approve; it runs once', async () => {
    const c = (t: string) => ctx.server.client(t);
    const agent = c(ctx.ws.tokens.agent);
    const a = await agent.submit({
      kind: 'http',
      target: 'github',
      input: { method: 'POST', path: '/repos/acme/app/releases', body: { tag_name: 'v2.0.0' } },
      justification: 'release the fix',
      onBehalfOf: 'dave@example.com',
    });
    expect(a.status).toBe('pending');
    expect(a.review?.requirements).toMatchObject([{ ruleId: 'releases', approvers: ['group:release'], quorum: 2 }]);

    // The agent's long poll is waiting while humans review.
    const waiting = agent.wait(a.id, { timeoutSeconds: 30 });

    expect(await refusal(agent.approve(a.id, a.fingerprint))).toEqual({ status: 403, code: 'AGENT_CANNOT_REVIEW' });
    expect(await refusal(c(ctx.ws.tokens.carol).approve(a.id, a.fingerprint))).toEqual({ status: 403, code: 'SELF_APPROVAL' }); // owner, in group release and admin
    expect(await refusal(c(ctx.ws.tokens.dave).approve(a.id, a.fingerprint))).toEqual({ status: 403, code: 'SELF_APPROVAL' }); // onBehalfOf
    expect(await refusal(c(ctx.ws.tokens.eve).approve(a.id, a.fingerprint))).toEqual({ status: 403, code: 'NOT_ELIGIBLE' });
    expect(await refusal(c(ctx.ws.tokens.alice).approve(a.id, `sha256:${'0'.repeat(64)}`))).toEqual({ status: 409, code: 'FINGERPRINT_MISMATCH' });

    const one = await c(ctx.ws.tokens.alice).approve(a.id, a.fingerprint, 'looks right');
    expect(one.status).toBe('pending');
    expect(one.review?.requirements[0]?.approvedBy).toEqual(['alice@example.com']);
    expect(await refusal(c(ctx.ws.tokens.alice).approve(a.id, a.fingerprint))).toEqual({ status: 409, code: 'ALREADY_REVIEWED' });
    expect(forPath('/repos/acme/app/releases')).toHaveLength(0);

    const two = await c(ctx.ws.tokens.bob).approve(a.id, a.fingerprint);
    expect(['approved', 'running', 'succeeded']).toContain(two.status);

    const done = await waiting;
    expect(done.status).toBe('succeeded');
    expect(done.result?.status).toBe(200);
    const hits = forPath('/repos/acme/app/releases');
    expect(hits).toHaveLength(1);
    expect(JSON.parse(hits[0]!.body)).toEqual({ tag_name: 'v2.0.0' });

    expect(await refusal(c(ctx.ws.tokens.dave).deny(a.id, 'too late'))).toEqual({ status: 403, code: 'SELF_APPROVAL' });
    expect(await refusal(c(ctx.ws.tokens.bob).deny(a.id, 'too late'))).toEqual({ status: 409, code: 'NOT_PENDING' });
    expect(await refusal(c(ctx.ws.tokens.olga).deny(a.id, 'too late'))).toEqual({ status: 403, code: 'NOT_ELIGIBLE' });
  });

  it('one eligible deny denies, and nothing runs', async () => {
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/lib/releases' } });
    await ctx.server.client(ctx.ws.tokens.alice).approve(a.id, a.fingerprint);
    const d = await ctx.server.client(ctx.ws.tokens.bob).deny(a.id, 'not this week');
    expect(d.status).toBe('denied');
    expect(await refusal(ctx.server.client(ctx.ws.tokens.dave).approve(a.id, a.fingerprint))).toEqual({ status: 409, code: 'NOT_PENDING' });
    expect(forPath('/repos/acme/lib/releases')).toHaveLength(0);
  });

  it('shows agents only their own actions, and humans what they may review', async () => {
    const mine = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/x/releases' } });
    expect(await refusal(ctx.server.client(ctx.ws.tokens.other).get(mine.id))).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await refusal(ctx.server.client(ctx.ws.tokens.other).cancel(mine.id))).toEqual({ status: 404, code: 'NOT_FOUND' });
    const theirs = (await ctx.server.client(ctx.ws.tokens.other).list()).actions.map((x) => x.id);
    expect(theirs).not.toContain(mine.id);
    const alicePending = (await ctx.server.client(ctx.ws.tokens.alice).list({ status: ['pending'] })).actions.map((x) => x.id);
    expect(alicePending).toContain(mine.id);
    const evePending = (await ctx.server.client(ctx.ws.tokens.eve).list({ status: ['pending'] })).actions.map((x) => x.id);
    expect(evePending).not.toContain(mine.id);
  });

  it('the audit log of everything above verifies offline: integrity and governance', async () => {
    const r = await runCli(['audit', 'verify', '--config', ctx.ws.configPath, '--json', '--no-progress'], ctx.ws.env);
    expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 0, counts: { governance: 0, tampering: 0 }, governanceChecked: true });
    expect(r.code).toBe(0);
  });
});
