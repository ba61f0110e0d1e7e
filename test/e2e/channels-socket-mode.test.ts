import { describe, expect, it } from 'vitest';
import { blockAction } from '../fakes/slack-fake.js';
import { until } from './harness.js';
import { CHANNEL, SLACK, TEAM, slackPost, submitRelease, useChannelServer } from './channels-harness.js';

const ctx = useChannelServer({ socketMode: true });

describe('Slack Socket Mode', () => {
  it('receives clicks over the WebSocket the official client opens, acknowledges each, and records the review', async () => {
    await ctx.socket!.ready;
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const value = ctx.slack.buttons(m).find((b) => b.action_id === 'countersign_approve')!.value;
    await ctx.socket!.interactive(blockAction({ team: TEAM, user: SLACK.alice, channel: CHANNEL, messageTs: m.ts, actionId: 'countersign_approve', value }));
    const after = await until(() => ctx.server.client(ctx.ws.tokens.alice).get(a.id), (x) => x.review?.reviews.length === 1);
    expect(after.review?.reviews[0]).toMatchObject({ reviewer: 'alice@example.com', verdict: 'approve', via: 'slack' });
    await until(async () => JSON.stringify(m.blocks), (t) => t.includes('approved by alice@example.com'));
  });

  it('still refuses another workspace and self-approval', async () => {
    await ctx.socket!.ready;
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    const value = ctx.slack.buttons(m).find((b) => b.action_id === 'countersign_approve')!.value;
    await ctx.socket!.interactive(blockAction({ team: 'TOTHER001', user: SLACK.alice, channel: CHANNEL, messageTs: m.ts, actionId: 'countersign_approve', value }));
    const since = ctx.slack.ephemerals.length;
    await ctx.socket!.interactive(blockAction({ team: TEAM, user: SLACK.carol, channel: CHANNEL, messageTs: m.ts, actionId: 'countersign_approve', value }));
    const e = await until(async () => ctx.slack.ephemerals.slice(since).find((x) => x.user === SLACK.carol), (x) => !!x);
    expect(e?.text).toContain('SELF_APPROVAL');
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).review?.reviews).toEqual([]);
  });
});
