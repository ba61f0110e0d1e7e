import { describe, expect, it } from 'vitest';
import { blockAction, denySubmission, signedInteraction } from '../fakes/slack-fake.js';
import { until } from './harness.js';
import { CHANNEL, SLACK, TEAM, postSlack, slackPost, submitRelease, useChannelServer } from './channels-harness.js';

const ctx = useChannelServer();

const click = (user: string, m: { ts: string }, actionId: string, value: string, team = TEAM) =>
  signedInteraction(blockAction({ team, user, channel: CHANNEL, messageTs: m.ts, actionId, value }), ctx.secrets.slackSigning);

const approveValue = (m: Parameters<typeof ctx.slack.buttons>[0]) => ctx.slack.buttons(m).find((b) => b.action_id === 'countersign_approve')!.value;

async function ephemeralFor(user: string, since: number) {
  const e = await until(async () => ctx.slack.ephemerals.slice(since).find((x) => x.user === user), (x) => !!x);
  return e?.text ?? '';
}

describe('Slack: review requests and clicks', () => {
  it('posts the request with everything a reviewer needs, agent text escaped, and Approve / Deny buttons', async () => {
    const a = await submitRelease(ctx, 'v1.2.3');
    expect(a.status).toBe('pending');
    const m = await slackPost(ctx, a.id);
    const text = JSON.stringify(m.blocks);
    for (const expected of ['deploy-bot (agent)', 'carol@example.com', 'POST github /repos/acme/app/releases', 'v1.2.3', 'releases', 'group:release', a.fingerprint.slice(0, 19), 'Waiting for review']) {
      expect(text).toContain(expected);
    }
    // Agent-supplied text cannot mention, link or close the code block.
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<@U999>');
    expect(text).not.toContain('<http://evil.example|click>');
    expect(text).toContain('&lt;!channel&gt;');
    expect(ctx.slack.buttons(m).map((b) => b.action_id)).toEqual(['countersign_approve', 'countersign_deny']);
    expect(JSON.parse(approveValue(m))).toEqual({ a: a.id, f: a.fingerprint });
  });

  it('approves from Slack (explicit slackUserId), updates the message for everyone and replies in its thread', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const since = ctx.slack.ephemerals.length;
    const r = await postSlack(ctx, click(SLACK.alice, m, 'countersign_approve', approveValue(m)));
    expect(r.status).toBe(200);
    expect(await ephemeralFor(SLACK.alice, since)).toContain('Recorded');
    const after = await ctx.server.client(ctx.ws.tokens.alice).get(a.id);
    expect(after.review?.approvals.map((x) => [x.reviewer, x.via])).toEqual([['alice@example.com', 'slack']]);
    const updated = await until(async () => m, (x) => JSON.stringify(x.blocks).includes('1/2'));
    expect(JSON.stringify(updated.blocks)).toContain('approved by alice@example.com');
    const replies = await until(async () => ctx.slack.replies(m.ts), (x) => x.length === 1);
    expect(replies[0]!.text).toContain('alice@example.com approved via slack');
  });

  it('maps a user by the email users.info returns (case-insensitive), and quorum closes the request: buttons disappear', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    await postSlack(ctx, click(SLACK.alice, m, 'countersign_approve', approveValue(m)));
    await until(() => ctx.server.client(ctx.ws.tokens.alice).get(a.id), (x) => x.review?.approvals.length === 1);
    await postSlack(ctx, click(SLACK.dave, m, 'countersign_approve', approveValue(m)));
    const done = await until(() => ctx.server.client(ctx.ws.tokens.alice).get(a.id), (x) => x.status === 'approved');
    expect(done.status).toBe('approved');
    expect(done.review?.approvals.map((x) => x.reviewer).sort()).toEqual(['alice@example.com', 'dave@example.com']);
    const closed = await until(async () => m, (x) => ctx.slack.buttons(x).length === 0);
    expect(ctx.slack.buttons(closed)).toEqual([]);
    expect(JSON.stringify(closed.blocks)).toContain('Approved: the agent may run it');
  });

  it('denies from Slack: Deny opens a modal asking for a reason, and the reason is recorded', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const views = ctx.slack.views.length;
    const denyValue = ctx.slack.buttons(m).find((b) => b.action_id === 'countersign_deny')!.value;
    expect((await postSlack(ctx, click(SLACK.alice, m, 'countersign_deny', denyValue))).status).toBe(200);
    const opened = await until(async () => ctx.slack.views.slice(views), (v) => v.length === 1);
    const view = opened[0]!.view;
    expect(view.callback_id).toBe('countersign_deny_reason');
    expect(JSON.stringify(view)).toContain('POST github /repos/acme/app/releases');
    // An empty reason is refused in the modal itself, and nothing is recorded.
    const empty = await postSlack(ctx, signedInteraction(denySubmission({ team: TEAM, user: SLACK.alice, view, reason: '  ' }), ctx.secrets.slackSigning));
    expect(empty.json).toMatchObject({ response_action: 'errors' });
    expect(String((empty.json!.errors as { reason: unknown }).reason)).toContain('reason is required');
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).status).toBe('pending');
    await postSlack(ctx, signedInteraction(denySubmission({ team: TEAM, user: SLACK.alice, view, reason: 'Not during the freeze' }), ctx.secrets.slackSigning));
    const denied = await until(() => ctx.server.client(ctx.ws.tokens.alice).get(a.id), (x) => x.status === 'denied');
    expect(denied.review?.reviews[0]).toMatchObject({ reviewer: 'alice@example.com', verdict: 'deny', comment: 'Not during the freeze', via: 'slack' });
    const closed = await until(async () => m, (x) => ctx.slack.buttons(x).length === 0);
    expect(JSON.stringify(closed.blocks)).toContain('Denied by alice@example.com');
  });
});

describe('Slack: refusals', () => {
  it('refuses a forged signature (401) and changes nothing', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const forged = signedInteraction(blockAction({ team: TEAM, user: SLACK.alice, channel: CHANNEL, messageTs: m.ts, actionId: 'countersign_approve', value: approveValue(m) }), 'not-the-signing-secret');
    const r = await postSlack(ctx, forged);
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ error: { code: 'SLACK_SIGNATURE_INVALID' } });
    const missing = await fetch(`${ctx.server.url}/integrations/slack/interactions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: forged.body });
    expect(missing.status).toBe(401);
    // Positive signal first: a correctly signed click sent after the forged ones is worked on;
    // only dave's review may then be on record, never alice's forged one.
    const since = ctx.slack.ephemerals.length;
    expect((await postSlack(ctx, click(SLACK.dave, m, 'countersign_approve', approveValue(m)))).status).toBe(200);
    expect(await ephemeralFor(SLACK.dave, since)).toContain('Recorded');
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).review?.reviews.map((x) => x.reviewer)).toEqual(['dave@example.com']);
  });

  it('refuses stale and future timestamps, even correctly signed', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const payload = blockAction({ team: TEAM, user: SLACK.alice, channel: CHANNEL, messageTs: m.ts, actionId: 'countersign_approve', value: approveValue(m) });
    for (const delta of [-301, -3600, 301, 3600]) {
      const r = await postSlack(ctx, signedInteraction(payload, ctx.secrets.slackSigning, Math.floor(Date.now() / 1000) + delta));
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ error: { code: 'SLACK_TIMESTAMP_INVALID' } });
    }
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).review?.reviews).toEqual([]);
  });

  it('processes an interaction once: a replayed payload changes nothing', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const signed = signedInteraction(blockAction({ team: TEAM, user: SLACK.alice, channel: CHANNEL, messageTs: m.ts, actionId: 'countersign_approve', value: approveValue(m) }), ctx.secrets.slackSigning);
    const since = ctx.slack.ephemerals.length;
    expect((await postSlack(ctx, signed)).status).toBe(200);
    await ephemeralFor(SLACK.alice, since);
    const logged = ctx.server.logs.length;
    expect((await postSlack(ctx, signed)).status).toBe(200);
    // Positive signal first: the gateway logged the replay as ignored.
    await until(async () => ctx.server.logs.slice(logged).some((l) => l.includes('slack: replayed interaction ignored')), (x) => x);
    expect(ctx.server.logs.slice(logged).some((l) => l.includes('slack: replayed interaction ignored'))).toBe(true);
    // Only the first was worked on: one review, one ephemeral (a second try would have said ALREADY_REVIEWED).
    expect(ctx.slack.ephemerals.slice(since).filter((e) => e.user === SLACK.alice)).toHaveLength(1);
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).review?.reviews).toHaveLength(1);
  });

  it('refuses an interaction from another workspace (403)', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const r = await postSlack(ctx, click(SLACK.alice, m, 'countersign_approve', approveValue(m), 'TOTHER001'));
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ error: { code: 'SLACK_TEAM_MISMATCH' } });
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).review?.reviews).toEqual([]);
  });

  // Ambiguous users (two humans under one email) cannot be configured any more: the config refuses
  // case-insensitive duplicate ids. The directory's refusal of ambiguity is unit-tested (chat-review.test.ts).
  it('refuses an unknown user with an ephemeral message, recording nothing', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const since = ctx.slack.ephemerals.length;
    await postSlack(ctx, click(SLACK.stranger, m, 'countersign_approve', approveValue(m)));
    expect(await ephemeralFor(SLACK.stranger, since)).toContain('CHAT_USER_UNKNOWN');
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).review?.reviews).toEqual([]);
  });

  it('refuses self-approval through chat: the agent\'s owner clicks Approve', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const since = ctx.slack.ephemerals.length;
    await postSlack(ctx, click(SLACK.carol, m, 'countersign_approve', approveValue(m)));
    expect(await ephemeralFor(SLACK.carol, since)).toContain('SELF_APPROVAL');
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).review?.reviews).toEqual([]);
  });

  it('refuses a button whose fingerprint does not match the stored action', async () => {
    const a = await submitRelease(ctx);
    const b = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const since = ctx.slack.ephemerals.length;
    // The action id of one request with the fingerprint of another.
    await postSlack(ctx, click(SLACK.alice, m, 'countersign_approve', JSON.stringify({ a: a.id, f: b.fingerprint })));
    expect(await ephemeralFor(SLACK.alice, since)).toContain('FINGERPRINT_MISMATCH');
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).review?.reviews).toEqual([]);
  });

  it('answers malformed requests with a clear 4xx and a stable code', async () => {
    const url = `${ctx.server.url}/integrations/slack/interactions`;
    const json = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    const noPayload = signedInteraction({}, ctx.secrets.slackSigning);
    const r = await fetch(url, { method: 'POST', headers: noPayload.headers, body: 'x=1' });
    expect(r.status).toBe(401); // signed over another body
    const ts = Math.floor(Date.now() / 1000);
    const { createHmac } = await import('node:crypto');
    const sign = (body: string) => ({ 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${createHmac('sha256', ctx.secrets.slackSigning).update(`v0:${ts}:${body}`).digest('hex')}` });
    for (const body of ['x=1', 'payload=not-json', `payload=${encodeURIComponent('{"type":"block_actions"}')}`]) {
      const res = await fetch(url, { method: 'POST', headers: sign(body), body });
      expect([400, 403]).toContain(res.status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^(VALIDATION_FAILED|SLACK_TEAM_MISMATCH)$/);
    }
  });
});
