import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/client/errors.js';
import { laterReadDone, raw, until, useServer } from './harness.js';

const ctx = useServer();

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    if (e instanceof CountersignError) return e.code;
    throw e;
  }
}

describe('lifecycle, end to end', () => {
  it('an expired request cannot be approved and stays expired', async () => {
    const agent = ctx.server.client(ctx.ws.tokens.agent);
    const a = await agent.submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/quick/1' } });
    expect(a.status).toBe('pending');
    const done = await agent.wait(a.id, { timeoutSeconds: 10 });
    expect(done.status).toBe('expired');
    expect(await codeOf(ctx.server.client(ctx.ws.tokens.alice).approve(a.id, a.fingerprint))).toBe('NOT_PENDING');
    expect((await agent.get(a.id)).status).toBe('expired');
    expect(ctx.target.received.filter((r) => r.url.startsWith('/api/quick'))).toHaveLength(0);
  });

  it('escalates on schedule: the escalation group becomes eligible', async () => {
    const agent = ctx.server.client(ctx.ws.tokens.agent);
    const a = await agent.submit({ kind: 'http', target: 'github', input: { method: 'PATCH', path: '/repos/acme/app', body: { private: true } }, mode: 'decide' });
    expect(await codeOf(ctx.server.client(ctx.ws.tokens.olga).approve(a.id, a.fingerprint))).toBe('NOT_ELIGIBLE');
    const escalated = await until(() => agent.get(a.id), (x) => !!x.review?.requirements[0]?.escalate?.done);
    expect(escalated.review?.requirements[0]?.escalate?.done).toBe(true);
    const approved = await ctx.server.client(ctx.ws.tokens.olga).approve(a.id, a.fingerprint);
    // Decide mode: approved is final and the gateway runs nothing.
    expect(approved.status).toBe('approved');
    // A read submitted after the approval has run: had the approval dispatched an
    // execution, it would have gone through the same executor first.
    await laterReadDone(ctx);
    expect((await agent.get(a.id)).status).toBe('approved');
    expect(ctx.target.received.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });

  it('the requester can cancel a pending action; then nobody can approve it', async () => {
    const agent = ctx.server.client(ctx.ws.tokens.agent);
    const a = await agent.submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/c/releases' } });
    expect(await codeOf(ctx.server.client(ctx.ws.tokens.alice).cancel(a.id))).toBe('NOT_REQUESTER');
    expect((await agent.cancel(a.id)).status).toBe('cancelled');
    expect(await codeOf(agent.cancel(a.id))).toBe('NOT_PENDING');
    expect(await codeOf(ctx.server.client(ctx.ws.tokens.alice).approve(a.id, a.fingerprint))).toBe('NOT_PENDING');
  });

  it('an idempotent resubmission returns the same action with 200; another payload under the same key is refused', async () => {
    const body = JSON.stringify({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/i/releases' } });
    const headers = { 'content-type': 'application/json', 'idempotency-key': 'release-42' };
    const first = await raw(ctx.server.url, '/v1/actions', { method: 'POST', body, headers, token: ctx.ws.tokens.agent });
    const again = await raw(ctx.server.url, '/v1/actions', { method: 'POST', body, headers, token: ctx.ws.tokens.agent });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await raw(ctx.server.url, '/v1/actions', {
      method: 'POST',
      body: JSON.stringify({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/j/releases' } }),
      headers,
      token: ctx.ws.tokens.agent,
    });
    expect(other.status).toBe(409);
    expect(other.body.error?.code).toBe('IDEMPOTENCY_CONFLICT');
    // Another agent may use the same key for its own action.
    const theirs = await raw(ctx.server.url, '/v1/actions', { method: 'POST', body, headers, token: ctx.ws.tokens.other });
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(first.body.id);
  });

  it('a long poll returns at its deadline while the action is still pending', async () => {
    const agent = ctx.server.client(ctx.ws.tokens.agent);
    const a = await agent.submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/w/releases' } });
    const r = await raw(ctx.server.url, `/v1/actions/${a.id}?wait=1`, { token: ctx.ws.tokens.agent });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('pending');
    // It answered because the wait ended, not because something happened: the record is unchanged.
    expect(r.body.updatedAt).toBe(a.updatedAt);
  });

  it('a long poll whose caller hangs up stops waiting: the gateway keeps no waiter for it', async () => {
    const agent = ctx.server.client(ctx.ws.tokens.agent);
    const a = await agent.submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/h/releases' } });
    const waiters = async () => Number(/^countersign_waiters (\d+)/m.exec(await (await fetch(`${ctx.server.url}/metrics`)).text())?.[1]);
    const before = await waiters();
    const hangUp = new AbortController();
    const poll = raw(ctx.server.url, `/v1/actions/${a.id}?wait=60`, { token: ctx.ws.tokens.agent, signal: hangUp.signal }).catch((e: unknown) => e);
    expect(await until(waiters, (n) => n === before + 1)).toBe(before + 1);
    hangUp.abort();
    expect(await poll).toBeInstanceOf(Error);
    expect(await until(waiters, (n) => n === before)).toBe(before);
    expect((await agent.get(a.id)).status).toBe('pending');
  });

  it('serves health, metrics and the OpenAPI document', async () => {
    const h = await raw(ctx.server.url, '/healthz');
    expect(h).toMatchObject({ status: 200, body: { status: 'ok' } });
    const m = await fetch(`${ctx.server.url}/metrics`);
    const text = await m.text();
    expect(text).toContain('countersign_decisions_total{outcome="review"}');
    const o = await raw(ctx.server.url, '/openapi.json');
    expect(o.body.openapi).toBe('3.1.0');
    expect(Object.keys(o.body.paths as object)).toEqual(expect.arrayContaining(['/v1/actions', '/v1/actions/{id}', '/v1/actions/{id}/approve']));
  });
});
