// Approve + grant from Slack and Teams: the same standing grants as the API, with the same checks.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/types.js';
import { blockAction, signedInteraction } from '../fakes/slack-fake.js';
import { cardActions, cardText } from '../fakes/teams-fake.js';
import { BASE_POLICY, until } from './harness.js';
import { AAD, CHANNEL, CONVERSATION, SLACK, TEAM, TENANT, postSlack, postTeams, slackPost, teamsCard, useChannelServer } from './channels-harness.js';

const POLICY = BASE_POLICY.replace(
  'rules:\n',
  `rules:
  - id: deploys
    match: { kind: http, target: github }
    when: http.method == "POST" && http.path.startsWith("/repos/acme/app/deployments")
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 30m, grants: { maxTtl: 1h, maxUses: 3, scope: [agent, target, http.method, http.path] } }
`,
);
const ctx = useChannelServer({ policy: POLICY });

const deploy = (path = '/repos/acme/app/deployments'): Promise<Action> =>
  ctx.server.client(ctx.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path, body: { ref: 'main' } }, mode: 'decide' });
const get = (id: string) => ctx.server.client(ctx.ws.tokens.alice).get(id);
const grantInvoke = (a: Action, aad: string, ttl: string, uses: number | string) =>
  ctx.teams.invoke({ verb: 'countersign.approveGrant', data: { actionId: a.id, fingerprint: a.fingerprint, grantTtl: ttl, grantUses: uses }, aadObjectId: aad, tenantId: TENANT, conversationId: CONVERSATION });

describe('Approve + grant from Slack and Teams', () => {
  it('Slack: the button opens a modal with the scope in words and the bounds; submitting creates the grant, the message says so, and the next matching action is allowed naming it', async () => {
    const a = await deploy();
    const m = await slackPost(ctx, a.id);
    const grantButton = ctx.slack.buttons(m).find((b) => b.action_id === 'countersign_approve_grant')!;
    expect(ctx.slack.buttons(m).map((b) => b.action_id)).toEqual(['countersign_approve', 'countersign_approve_grant', 'countersign_deny']);
    const views = ctx.slack.views.length;
    const click = blockAction({ team: TEAM, user: SLACK.alice, channel: CHANNEL, messageTs: m.ts, actionId: 'countersign_approve_grant', value: grantButton.value });
    expect((await postSlack(ctx, signedInteraction(click, ctx.secrets.slackSigning))).status).toBe(200);
    const view = (await until(async () => ctx.slack.views.slice(views), (v) => v.length === 1))[0]!.view;
    const shown = JSON.stringify(view);
    expect(view.callback_id).toBe('countersign_approve_grant');
    for (const words of ['http actions of deploy-bot on github that rule deploys would send to review', 'http.method = \\"POST\\"', 'http.path = \\"/repos/acme/app/deployments\\"', 'at most 1h and 3 uses']) {
      expect(shown).toContain(words);
    }
    // Nothing is recorded by opening the modal.
    expect((await get(a.id)).status).toBe('pending');

    const since = ctx.slack.ephemerals.length;
    const submit = grantSubmission(view, '30m', '2');
    expect((await postSlack(ctx, signedInteraction(submit, ctx.secrets.slackSigning))).status).toBe(200);
    const approved = await until(() => get(a.id), (x) => x.status === 'approved');
    expect(approved.grant).toMatchObject({ maxUses: 2 });
    expect(approved.review?.approvals.map((x) => [x.reviewer, x.via])).toEqual([['alice@example.com', 'slack']]);
    const told = await until(async () => ctx.slack.ephemerals.slice(since).find((e) => e.user === SLACK.alice)?.text ?? '', (t) => t !== '');
    expect(told).toContain(`also created standing grant ${approved.grant!.id}`);
    const updated = await until(async () => m, (x) => JSON.stringify(x.blocks).includes('Standing grant'));
    expect(JSON.stringify(updated.blocks)).toContain(`The approval also created standing grant ${approved.grant!.id}`);

    const next = await deploy();
    expect(next.status).toBe('approved');
    expect(next.decision.grant).toMatchObject({ id: approved.grant!.id, use: 1 });
  });

  it("Teams: the card shows the grant's scope and bounds; the agent's owner approving with a grant is refused (SELF_APPROVAL) and nothing is created", async () => {
    const a = await deploy('/repos/acme/app/deployments/teams');
    const card = await teamsCard(ctx, a.id);
    expect(cardActions(card).map((x) => x.verb)).toEqual(['countersign.approve', 'countersign.approveGrant', 'countersign.deny']);
    expect(cardText(card)).toContain('that rule deploys would send to review');
    expect(cardText(card)).toContain('at most 1h and 3 uses');
    // carol owns deploy-bot: she may not approve its action, with or without a grant.
    const r = await postTeams(ctx, grantInvoke(a, AAD.carol, '1h', 3), await ctx.teams.token());
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.json)).toContain('Not recorded (SELF_APPROVAL)');
    const after = await get(a.id);
    expect(after.status).toBe('pending');
    expect(after.review?.reviews).toEqual([]);
    expect(after.grant).toBeUndefined();
  });

  it('Teams: a grant beyond the policy bounds is refused with GRANT_OUT_OF_BOUNDS and changes nothing; within them, the refreshed card says the approval created a grant', async () => {
    const a = await deploy('/repos/acme/app/deployments/bounds');
    await teamsCard(ctx, a.id);
    const tooMany = await postTeams(ctx, grantInvoke(a, AAD.bob, '1h', 50), await ctx.teams.token());
    expect(JSON.stringify(tooMany.json)).toContain('Not recorded (GRANT_OUT_OF_BOUNDS)');
    const tooLong = await postTeams(ctx, grantInvoke(a, AAD.bob, '2h', 1), await ctx.teams.token());
    expect(JSON.stringify(tooLong.json)).toContain('Not recorded (GRANT_OUT_OF_BOUNDS)');
    const malformed = await postTeams(ctx, grantInvoke(a, AAD.bob, 'soon', 1), await ctx.teams.token());
    expect(JSON.stringify(malformed.json)).toContain('Not recorded (VALIDATION_FAILED)');
    expect((await get(a.id)).review?.reviews).toEqual([]);

    const ok = await postTeams(ctx, grantInvoke(a, AAD.bob, '15m', '1'), await ctx.teams.token());
    expect(ok.json).toMatchObject({ type: 'application/vnd.microsoft.card.adaptive' });
    const approved = await get(a.id);
    expect(approved.grant).toMatchObject({ maxUses: 1 });
    expect(JSON.stringify(ok.json)).toContain(`The approval also created standing grant ${approved.grant!.id}`);
  });
});

/** Slack's view_submission for the Approve + grant modal, with what the reviewer typed. */
function grantSubmission(view: Record<string, unknown>, ttl: string, uses: string) {
  return {
    type: 'view_submission',
    team: { id: TEAM, domain: 'acme' },
    user: { id: SLACK.alice, team_id: TEAM },
    api_app_id: 'A0123',
    view: {
      ...view,
      id: 'V0GRANT',
      state: { values: { ttl: { ttl: { type: 'plain_text_input', value: ttl } }, uses: { uses: { type: 'number_input', value: uses } } } },
    },
  };
}
