import { describe, expect, it } from 'vitest';
import { blockAction, signedInteraction } from '../fakes/slack-fake.js';
import { cardActions, cardText } from '../fakes/teams-fake.js';
import { raw, runCli, until } from './harness.js';
import { AAD, CHANNEL, CONVERSATION, SLACK, TEAM, TENANT, postSlack, postTeams, slackPost, submitRelease, teamsCard, useChannelServer } from './channels-harness.js';

const ctx = useChannelServer();

const approveValue = (m: Parameters<typeof ctx.slack.buttons>[0]) => ctx.slack.buttons(m).find((b) => b.action_id === 'countersign_approve')!.value;

describe('one request, every channel', () => {
  it('reaches quorum across channels: one approval in Slack, one in Teams', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const card = await teamsCard(ctx, a.id);
    await postSlack(ctx, signedInteraction(blockAction({ team: TEAM, user: SLACK.alice, channel: CHANNEL, messageTs: m.ts, actionId: 'countersign_approve', value: approveValue(m) }), ctx.secrets.slackSigning));
    await until(() => ctx.server.client(ctx.ws.tokens.alice).get(a.id), (x) => x.review?.approvals.length === 1);
    const r = await postTeams(ctx, ctx.teams.invoke({ verb: 'countersign.approve', data: { actionId: a.id, fingerprint: a.fingerprint }, aadObjectId: AAD.bob, tenantId: TENANT, conversationId: CONVERSATION }), await ctx.teams.token());
    expect(r.status).toBe(200);
    const done = await ctx.server.client(ctx.ws.tokens.alice).get(a.id);
    expect(done.status).toBe('approved');
    expect(done.review?.approvals.map((x) => [x.reviewer, x.via])).toEqual([
      ['alice@example.com', 'slack'],
      ['bob@example.com', 'teams'],
    ]);
    // Both messages close, whichever channel the last click came from.
    await until(async () => m, (x) => ctx.slack.buttons(x).length === 0);
    await until(async () => card, (c) => cardActions(c).length === 0);
    expect(JSON.stringify(m.blocks)).toContain('approved by alice@example.com, bob@example.com');
    expect(cardText(card)).toContain('Approved: the agent may run it');
    // Each review is replied in both threads.
    await until(async () => ctx.slack.replies(m.ts).length, (n) => n === 2);
    await until(async () => ctx.teams.replies(card.id).length, (n) => n === 2);
  });

  it('updates the messages after an approval through the API', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const card = await teamsCard(ctx, a.id);
    await ctx.server.client(ctx.ws.tokens.alice).approve(a.id, a.fingerprint, 'looks right');
    await until(async () => JSON.stringify(m.blocks), (t) => t.includes('approved by alice@example.com'));
    await until(async () => cardText(card), (t) => t.includes('approved by alice@example.com'));
    const reply = await until(async () => ctx.slack.replies(m.ts), (x) => x.length === 1);
    expect(reply[0]!.text).toContain('alice@example.com approved via api: looks right');
  });

  it('updates the messages on expiry: buttons gone, status expired', async () => {
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/quick/1' }, mode: 'decide' });
    expect(a.decision.rules).toEqual(['quick']);
    const m = await slackPost(ctx, a.id);
    const card = await teamsCard(ctx, a.id);
    expect(ctx.slack.buttons(m)).toHaveLength(2);
    await until(() => ctx.server.client(ctx.ws.tokens.alice).get(a.id), (x) => x.status === 'expired', 15_000);
    const closed = await until(async () => m, (x) => ctx.slack.buttons(x).length === 0, 15_000);
    expect(JSON.stringify(closed.blocks)).toContain('Expired: nobody decided in time');
    await until(async () => card, (c) => cardActions(c).length === 0, 15_000);
    expect(cardText(card)).toContain('Expired');
    await until(async () => ctx.hooks.pager.types(a.id), (t) => t.includes('action.expired'));
    expect(ctx.hooks.pager.types(a.id)).toEqual(['action.pending', 'action.expired']);
  });

  it('keeps message references in the store: after a restart, an approval still updates the messages posted before', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const card = await teamsCard(ctx, a.id);
    await ctx.restart();
    await ctx.server.client(ctx.ws.tokens.dave).approve(a.id, a.fingerprint);
    await until(async () => JSON.stringify(m.blocks), (t) => t.includes('approved by dave@example.com'));
    await until(async () => cardText(card), (t) => t.includes('approved by dave@example.com'));
    // Updated in place: no second message was posted for the action.
    expect(ctx.slack.posts().filter((p) => p.channel === CHANNEL && JSON.stringify(p.blocks).includes(a.id))).toHaveLength(1);
    expect(ctx.teams.cards().filter((c) => JSON.stringify(c.body).includes(a.id))).toHaveLength(1);
  });
});

describe('every state change shows', () => {
  it('sends the request directly to each eligible approver with a Slack id (never to a party), and updates those messages too', async () => {
    const a = await submitRelease(ctx);
    const dm = await until(async () => ctx.slack.posts().find((p) => p.channel === `D${SLACK.alice.slice(1)}` && JSON.stringify(p.blocks).includes(a.id)), (x) => !!x);
    expect(dm).toBeDefined();
    // carol owns the agent: a party, never asked.
    expect(ctx.slack.posts().some((p) => p.channel === `D${SLACK.carol.slice(1)}` && JSON.stringify(p.blocks).includes(a.id))).toBe(false);
    await ctx.server.client(ctx.ws.tokens.bob).approve(a.id, a.fingerprint);
    await until(async () => JSON.stringify(dm!.blocks), (t) => t.includes('approved by bob@example.com'));
  });

  it('sends the request in a personal Teams chat to each eligible approver with a Teams id (never to a party), and updates it too', async () => {
    const a = await submitRelease(ctx);
    // bob (release) has a Teams id; carol has one too but owns the agent: a party, never asked.
    const card = await until(async () => ctx.teams.personalCards(AAD.bob).find((c) => JSON.stringify(c.body).includes(a.id)), (x) => !!x);
    expect(card).toBeDefined();
    expect(card!.conversationId).toBe(`a:personal-${AAD.bob}`);
    expect(cardActions(card!).map((x) => x.verb)).toEqual(['countersign.approve', 'countersign.deny']);
    expect(ctx.teams.personalCards(AAD.carol).some((c) => JSON.stringify(c.body).includes(a.id))).toBe(false);
    // bob approves from his personal chat: the same rules as anywhere else.
    const click = ctx.teams.invoke({ verb: 'countersign.approve', data: { actionId: a.id, fingerprint: a.fingerprint }, aadObjectId: AAD.bob, tenantId: TENANT, conversationId: card!.conversationId });
    expect((await postTeams(ctx, click, await ctx.teams.token())).status).toBe(200);
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).review?.reviews.map((r) => [r.reviewer, r.via])).toEqual([['bob@example.com', 'teams']]);
    await until(async () => cardText(card!), (t) => t.includes('approved by bob@example.com'));
  });

  it('shows an escalation', async () => {
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PATCH', path: '/repos/acme/app' }, mode: 'decide' });
    expect(a.decision.rules).toEqual(['escalating']);
    const m = await slackPost(ctx, a.id);
    const card = await teamsCard(ctx, a.id);
    expect(JSON.stringify(m.blocks)).toContain('escalates to group:oncall');
    await until(async () => JSON.stringify(m.blocks), (t) => t.includes('escalated to group:oncall'), 15_000);
    await until(async () => cardText(card), (t) => t.includes('escalated to group:oncall'), 15_000);
  });

  it('shows the execution result, and the buttons are gone', async () => {
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/quick/run' } });
    expect(a.mode).toBe('execute');
    const m = await slackPost(ctx, a.id);
    const card = await teamsCard(ctx, a.id);
    await postTeams(ctx, ctx.teams.invoke({ verb: 'countersign.approve', data: { actionId: a.id, fingerprint: a.fingerprint }, aadObjectId: AAD.bob, tenantId: TENANT, conversationId: CONVERSATION }), await ctx.teams.token());
    await until(async () => JSON.stringify(m.blocks), (t) => t.includes('Approved and executed: succeeded (HTTP 200)'));
    await until(async () => cardText(card), (t) => t.includes('Approved and executed: succeeded (HTTP 200)'));
    expect(ctx.slack.buttons(m)).toEqual([]);
    expect(cardActions(card)).toEqual([]);
    await until(async () => ctx.hooks.all.types(a.id), (t) => t.includes('action.succeeded'));
    expect(ctx.hooks.all.types(a.id)).toEqual(['action.pending', 'action.reviewed', 'action.approved', 'action.running', 'action.succeeded']);
  });
});

describe('a channel that is down', () => {
  it('blocks neither the gate nor the other channels; its deliveries are retried and recorded', async () => {
    ctx.slack.state.hang = true;
    try {
      const a = await submitRelease(ctx);
      expect(a.status).toBe('pending');
      // The gate answered; Teams and the webhooks are served while Slack hangs.
      await teamsCard(ctx, a.id);
      await until(async () => ctx.hooks.all.types(a.id), (t) => t.includes('action.pending'));
      const read = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/app' } });
      expect((await ctx.server.client(ctx.ws.tokens.agent).wait(read.id, { timeoutSeconds: 10 })).status).toBe('succeeded');
      const failed = await until(
        () => raw(ctx.server.url, `/v1/deliveries?actionId=${a.id}&channel=slack`, { token: ctx.ws.tokens.carol }),
        (r) => ((r.body.deliveries as Array<{ attempts: number }> | undefined)?.[0]?.attempts ?? 0) >= 1,
        15_000,
      );
      const d = (failed.body.deliveries as Array<{ id: number; status: string; lastError?: string }>)[0]!;
      expect(d.status).toBe('pending');
      expect(d.lastError).toMatch(/TimeoutError/);
    } finally {
      ctx.slack.state.hang = false;
    }
  });

  it('posts once the channel is back', async () => {
    ctx.teams.state.down = true;
    let id: string;
    try {
      const a = await submitRelease(ctx);
      id = a.id;
      await slackPost(ctx, a.id);
      await until(
        () => raw(ctx.server.url, `/v1/deliveries?actionId=${a.id}&channel=teams`, { token: ctx.ws.tokens.carol }),
        (r) => ((r.body.deliveries as Array<{ attempts: number }> | undefined)?.[0]?.attempts ?? 0) >= 2,
      );
    } finally {
      ctx.teams.state.down = false;
    }
    const card = await teamsCard(ctx, id);
    expect(cardActions(card)).toHaveLength(2);
    const detail = await until(
      async () => {
        const list = await raw(ctx.server.url, `/v1/deliveries?actionId=${id}&channel=teams`, { token: ctx.ws.tokens.carol });
        const first = (list.body.deliveries as Array<{ id: number }>)[0]!;
        return raw(ctx.server.url, `/v1/deliveries/${first.id}`, { token: ctx.ws.tokens.carol });
      },
      (r) => r.body.status === 'done',
    );
    const history = detail.body.history as Array<{ ok: boolean; detail: string }>;
    expect(history.length).toBeGreaterThanOrEqual(3);
    // The channel's card and bob's personal chat.
    expect(history.at(-1)).toMatchObject({ ok: true, detail: 'posted 2, updated 0, replied 0' });
    expect(history.slice(0, -1).every((h) => !h.ok && /503/.test(h.detail))).toBe(true);
  });
});

describe('outgoing webhooks', () => {
  it('sends one signed event per state change (Standard Webhooks), with a stable webhook-id', async () => {
    const a = await submitRelease(ctx);
    await ctx.server.client(ctx.ws.tokens.alice).approve(a.id, a.fingerprint);
    await ctx.server.client(ctx.ws.tokens.dave).deny(a.id, 'changed my mind');
    const types = await until(async () => ctx.hooks.all.types(a.id), (t) => t.includes('action.denied'));
    expect(types).toEqual(['action.pending', 'action.reviewed', 'action.reviewed', 'action.denied']);
    const events = ctx.hooks.all.received.filter((x) => (x.body.data as { actionId: string }).actionId === a.id);
    expect(events.every((e) => e.verified)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events[3]!.body).toMatchObject({ type: 'action.denied', data: { actionId: a.id, fingerprint: a.fingerprint, review: { reviewer: 'dave@example.com', verdict: 'deny', comment: 'changed my mind' } } });
    // Headers and bodies of the request are not sent; the link leads to the detail.
    expect(JSON.stringify(events[0]!.body)).not.toContain('tag_name');
  });

  it('filters by event type and by rule', async () => {
    const read = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/filtered' } });
    await until(async () => ctx.hooks.all.types(read.id), (t) => t.includes('action.succeeded'));
    expect(ctx.hooks.all.types(read.id)).toEqual(['action.approved', 'action.running', 'action.succeeded']);
    const a = await submitRelease(ctx);
    await ctx.server.client(ctx.ws.tokens.alice).approve(a.id, a.fingerprint);
    await until(async () => ctx.hooks.all.types(a.id), (t) => t.includes('action.reviewed'));
    await until(async () => ctx.hooks.pager.types(a.id), (t) => t.includes('action.pending'));
    // Positive signal first: the unfiltered endpoint got the review, so the feed moved past
    // its entry, and each endpoint's deliveries for it were decided in that same step.
    // The pager's queue (not only what reached it) then holds only the pending event.
    await until(async () => ctx.hooks.all.types(a.id), (t) => t.includes('action.reviewed'));
    const queued = async (id: string) =>
      ((await raw(ctx.server.url, `/v1/deliveries?actionId=${id}&channel=webhook:pager`, { token: ctx.ws.tokens.carol })).body.deliveries as unknown[]).length;
    expect(await queued(read.id)).toBe(0);
    expect(await queued(a.id)).toBe(1);
    // pager: only pending/approved/denied/expired, only for the releases and quick rules.
    expect(ctx.hooks.pager.types(read.id)).toEqual([]);
    expect(ctx.hooks.pager.types(a.id)).toEqual(['action.pending']);
  });

  it('retries a failing endpoint with backoff under the same webhook-id, and records every attempt', async () => {
    ctx.hooks.all.control.failNext = 2;
    const a = await ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/retried' }, mode: 'decide' });
    await until(async () => ctx.hooks.all.types(a.id), (t) => t.includes('action.approved'));
    const attempts = ctx.hooks.all.requests.filter((r) => r.body.includes(a.id));
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const list = await until(
      () => raw(ctx.server.url, `/v1/deliveries?actionId=${a.id}&channel=webhook:all`, { token: ctx.ws.tokens.carol }),
      (r) => (r.body.deliveries as Array<{ status: string }>)[0]?.status === 'done',
    );
    const d = (list.body.deliveries as Array<{ id: number; attempts: number; eventType: string; eventId: string }>)[0]!;
    expect(d).toMatchObject({ attempts: 3, eventType: 'action.approved', eventId: attempts[0]!.headers['webhook-id'] });
    const detail = await raw(ctx.server.url, `/v1/deliveries/${d.id}`, { token: ctx.ws.tokens.carol });
    expect((detail.body.history as Array<{ ok: boolean; detail: string }>).map((h) => [h.ok, h.detail])).toEqual([
      [false, 'HTTP_500: HTTP 500'],
      [false, 'HTTP_500: HTTP 500'],
      [true, 'HTTP 200'],
    ]);
    // The same record, from the CLI, reading the store directly.
    const cli = await runCli(['deliveries', '--config', ctx.ws.configPath, '--action', a.id, '--attempts'], ctx.ws.env);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('webhook:all');
    expect(cli.stdout).toContain('attempt 3');
    expect(cli.stdout).not.toContain(ctx.secrets.all);
  });

  it('shows deliveries to auditors only, and refuses bad queries with a stable code', async () => {
    expect((await raw(ctx.server.url, '/v1/deliveries', { token: ctx.ws.tokens.alice })).body.error).toMatchObject({ code: 'FORBIDDEN' });
    expect((await raw(ctx.server.url, '/v1/deliveries')).status).toBe(401);
    const bad = await raw(ctx.server.url, '/v1/deliveries?status=lost', { token: ctx.ws.tokens.carol });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await raw(ctx.server.url, '/v1/deliveries/999999', { token: ctx.ws.tokens.carol })).body.error).toMatchObject({ code: 'NOT_FOUND' });
    const listed = await raw(ctx.server.url, '/v1/deliveries?limit=500', { token: ctx.ws.tokens.carol });
    const text = JSON.stringify(listed.body);
    for (const s of Object.values(ctx.secrets)) expect(text).not.toContain(s);
  });
});
