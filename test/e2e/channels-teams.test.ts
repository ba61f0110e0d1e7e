import { describe, expect, it } from 'vitest';
import { BOT_ISSUER, cardActions, cardText } from '../fakes/teams-fake.js';
import { until } from './harness.js';
import { AAD, APP_ID, CONVERSATION, OTHER_TENANT, TENANT, TEAMS_USER, postTeams, submitRelease, teamsCard, useChannelServer } from './channels-harness.js';

const ctx = useChannelServer();

function invoke(verb: 'countersign.approve' | 'countersign.deny', a: { id: string; fingerprint: string }, who: { aadObjectId?: string; userId?: string }, extra: { reason?: string; tenantId?: string; serviceUrl?: string } = {}) {
  return ctx.teams.invoke({
    verb,
    data: { actionId: a.id, fingerprint: a.fingerprint, ...(extra.reason !== undefined ? { reason: extra.reason } : {}) },
    ...who,
    tenantId: extra.tenantId ?? TENANT,
    conversationId: CONVERSATION,
    ...(extra.serviceUrl ? { serviceUrl: extra.serviceUrl } : {}),
  });
}

const reviewsOf = async (id: string) => (await ctx.server.client(ctx.ws.tokens.alice).get(id)).review?.reviews ?? [];

describe('Teams: review requests and Universal Actions', () => {
  it('posts an Adaptive Card 1.5 with the same content and Action.Execute Approve / Deny, through a client-credentials token', async () => {
    const a = await submitRelease(ctx, 'v9.9.9');
    const card = await teamsCard(ctx, a.id);
    const content = (card.body.attachments as Array<{ contentType: string; content: Record<string, unknown> }>)[0]!;
    expect(content.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(content.content).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    const text = cardText(card);
    for (const expected of ['deploy-bot (agent)', 'carol@example.com', 'POST github /repos/acme/app/releases', 'v9.9.9', 'releases', a.fingerprint.slice(0, 19), 'Waiting for review']) {
      expect(text).toContain(expected);
    }
    expect(cardActions(card).map((x) => x.verb)).toEqual(['countersign.approve', 'countersign.deny']);
    expect(cardActions(card)[0]!.data).toEqual({ actionId: a.id, fingerprint: a.fingerprint });
    expect(ctx.teams.tokenRequests.at(-1)).toMatchObject({ grant_type: 'client_credentials', client_id: APP_ID, scope: 'https://api.botframework.com/.default' });
  });

  it('approves from Teams (explicit aadObjectId): the invoke answers with the refreshed card, and the card is updated for everyone', async () => {
    const a = await submitRelease(ctx);
    const card = await teamsCard(ctx, a.id);
    const r = await postTeams(ctx, invoke('countersign.approve', a, { aadObjectId: AAD.bob }), await ctx.teams.token());
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(JSON.stringify(r.json)).toContain('approved by bob@example.com');
    expect((await reviewsOf(a.id)).map((x) => [x.reviewer, x.verdict, x.via])).toEqual([['bob@example.com', 'approve', 'teams']]);
    await until(async () => card.updates, (n) => n > 0);
    expect(cardText(card)).toContain('1/2');
    const replies = await until(async () => ctx.teams.replies(card.id), (x) => x.length === 1);
    expect(replies[0]!.body.text).toContain('bob@example.com approved via teams');
  });

  it('maps a user by the UPN from the conversation roster, and denies with the reason typed in the card', async () => {
    const a = await submitRelease(ctx);
    const card = await teamsCard(ctx, a.id);
    const noReason = await postTeams(ctx, invoke('countersign.deny', a, { aadObjectId: AAD.dave, userId: TEAMS_USER.dave }), await ctx.teams.token());
    expect(JSON.stringify(noReason.json)).toContain('reason');
    expect(await reviewsOf(a.id)).toEqual([]);
    const r = await postTeams(ctx, invoke('countersign.deny', a, { aadObjectId: AAD.dave, userId: TEAMS_USER.dave }, { reason: 'Wrong branch' }), await ctx.teams.token());
    expect(r.json).toMatchObject({ type: 'application/vnd.microsoft.card.adaptive' });
    const after = await ctx.server.client(ctx.ws.tokens.alice).get(a.id);
    expect(after.status).toBe('denied');
    expect(after.review?.reviews[0]).toMatchObject({ reviewer: 'dave@example.com', verdict: 'deny', comment: 'Wrong branch', via: 'teams' });
    const closed = await until(async () => card, (c) => cardActions(c).length === 0);
    expect(cardText(closed)).toContain('Denied by dave@example.com');
  });
});

describe('Teams: identity', () => {
  it('maps by the roster email when the UPN names nobody', async () => {
    const a = await submitRelease(ctx);
    const r = await postTeams(ctx, invoke('countersign.approve', a, { aadObjectId: AAD.alice, userId: TEAMS_USER.alice }), await ctx.teams.token());
    expect(r.json).toMatchObject({ type: 'application/vnd.microsoft.card.adaptive' });
    expect((await reviewsOf(a.id)).map((x) => [x.reviewer, x.via])).toEqual([['alice@example.com', 'teams']]);
  });
});

describe('Teams: every inbound request is authenticated', () => {
  it('refuses a request without a token, whatever NODE_ENV says', async () => {
    const a = await submitRelease(ctx);
    const r = await postTeams(ctx, invoke('countersign.approve', a, { aadObjectId: AAD.bob }), undefined);
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ error: { code: 'TEAMS_UNAUTHENTICATED' } });
    expect(await reviewsOf(a.id)).toEqual([]);
  });

  it('refuses tokens with the wrong audience, issuer or serviceUrl, a key not in the JWKS, and an expired token', async () => {
    const a = await submitRelease(ctx);
    const activity = invoke('countersign.approve', a, { aadObjectId: AAD.bob });
    const bad = [
      await ctx.teams.token({ aud: '00000000-0000-0000-0000-000000000000' }),
      await ctx.teams.token({ iss: 'https://sts.windows.net/someone-else/' }),
      await ctx.teams.token({ serviceurl: 'https://smba.trafficmanager.net/evil/' }),
      await ctx.teams.forgedToken(),
      await ctx.teams.token({}, { issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresIn: 3600 }),
      'not.a.jwt',
    ];
    for (const token of bad) {
      const r = await postTeams(ctx, activity, token);
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ error: { code: 'TEAMS_UNAUTHENTICATED' } });
    }
    // A valid token for another serviceUrl does not cover an activity naming this one either way round.
    const other = await postTeams(ctx, { ...activity, serviceUrl: 'https://smba.trafficmanager.net/evil/' }, await ctx.teams.token());
    expect(other.status).toBe(401);
    expect(await reviewsOf(a.id)).toEqual([]);
    expect(BOT_ISSUER).toBe('https://api.botframework.com');
  });

  it('refuses an activity from a tenant not on the allow-list (403)', async () => {
    const a = await submitRelease(ctx);
    const r = await postTeams(ctx, invoke('countersign.approve', a, { aadObjectId: AAD.bob }, { tenantId: OTHER_TENANT }), await ctx.teams.token());
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ error: { code: 'TEAMS_TENANT_NOT_ALLOWED' } });
    expect(await reviewsOf(a.id)).toEqual([]);
  });

  it('refuses an unknown user, self-approval and a fingerprint mismatch with a message, recording nothing', async () => {
    const a = await submitRelease(ctx);
    const b = await submitRelease(ctx);
    const unknown = await postTeams(ctx, invoke('countersign.approve', a, { aadObjectId: AAD.stranger, userId: TEAMS_USER.stranger }), await ctx.teams.token());
    expect(unknown.json).toMatchObject({ type: 'application/vnd.microsoft.activity.message' });
    expect(String(unknown.json!.value)).toContain('CHAT_USER_UNKNOWN');
    const self = await postTeams(ctx, invoke('countersign.approve', a, { aadObjectId: AAD.carol }), await ctx.teams.token());
    expect(String(self.json!.value)).toContain('SELF_APPROVAL');
    const mismatch = await postTeams(ctx, invoke('countersign.approve', { id: a.id, fingerprint: b.fingerprint }, { aadObjectId: AAD.bob }), await ctx.teams.token());
    expect(String(mismatch.json!.value)).toContain('FINGERPRINT_MISMATCH');
    expect(await reviewsOf(a.id)).toEqual([]);
  });

  it('processes an invoke once: a replayed activity changes nothing', async () => {
    const a = await submitRelease(ctx);
    const activity = invoke('countersign.approve', a, { aadObjectId: AAD.bob });
    expect((await postTeams(ctx, activity, await ctx.teams.token())).status).toBe(200);
    const again = await postTeams(ctx, activity, await ctx.teams.token());
    expect(again.status).toBe(200);
    // The replay gets the current card, not an ALREADY_REVIEWED refusal: it was never worked on.
    expect(again.json).toMatchObject({ type: 'application/vnd.microsoft.card.adaptive' });
    expect(await reviewsOf(a.id)).toHaveLength(1);
  });

  it('answers malformed activities with a 400 and a stable code', async () => {
    const r = await postTeams(ctx, { serviceUrl: ctx.teams.serviceUrl, channelId: 'msteams', type: 42 }, await ctx.teams.token());
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});
