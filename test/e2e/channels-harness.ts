import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { canary, keepText } from '../support/canaries.js';
import type { Action } from '../../src/client/types.js';
import { startSlackFake } from '../fakes/slack-fake.js';
import type { SlackFake } from '../fakes/slack-fake.js';
import { startSlackSocketFake } from '../fakes/slack-socket-fake.js';
import { startTeamsFake } from '../fakes/teams-fake.js';
import type { TeamsFake } from '../fakes/teams-fake.js';
import { startWebhookReceiver } from '../fakes/webhook-receiver.js';
import type { ServerProcess, Workspace } from './harness.js';
import { configText, startServer, startTarget, until, workspace } from './harness.js';

export const TEAM = 'TACME0001';
export const CHANNEL = 'CREVIEWS01';
export const APP_ID = '11111111-2222-3333-4444-555555555555';
export const TENANT = '66666666-7777-8888-9999-000000000000';
export const OTHER_TENANT = '99999999-8888-7777-6666-555555555555';
export const CONVERSATION = '19:reviews0000@thread.tacv2';
/** Teams (Entra) object ids. */
export const AAD = {
  bob: 'b0b00000-0000-4000-8000-000000000001',
  alice: 'a11ce000-0000-4000-8000-000000000002',
  carol: 'ca201000-0000-4000-8000-000000000003',
  dave: 'da4e0000-0000-4000-8000-000000000004',
  stranger: 'ffffffff-0000-4000-8000-000000000005',
} as const;
/** Slack user ids. */
export const SLACK = { alice: 'UALICE01', bob: 'UBOB0001', carol: 'UCAROL01', dave: 'UDAVE001', stranger: 'UNOBODY1', twin: 'UTWIN001' } as const;

/** Teams user ids (29:...) whose member profile gives their UPN. */
export const TEAMS_USER = { alice: '29:alice', dave: '29:dave', stranger: '29:stranger' } as const;

export interface ChannelContext {
  slack: SlackFake;
  teams: TeamsFake;
  hooks: { pager: Awaited<ReturnType<typeof startWebhookReceiver>>; all: Awaited<ReturnType<typeof startWebhookReceiver>> };
  target: Awaited<ReturnType<typeof startTarget>>;
  ws: Workspace;
  server: ServerProcess;
  secrets: { slackBot: string; slackSigning: string; slackApp: string; teamsPassword: string; pager: string; all: string };
  socket?: Awaited<ReturnType<typeof startSlackSocketFake>>;
  restart(): Promise<void>;
}

const whsec = (what: string) => `whsec_${Buffer.from(canary(what)).toString('base64')}`;

/**
 * A real gateway process with Slack, Teams and two webhooks configured against fakes of
 * those services on loopback ports. Human mappings: alice and carol by explicit Slack id,
 * bob by explicit Teams id, dave by email (Slack users.info) and UPN (Teams members).
 */
export function useChannelServer(opts: { policy?: string; delivery?: string; socketMode?: boolean; env?: Record<string, string> } = {}): ChannelContext {
  const ctx = {} as ChannelContext;
  beforeAll(async () => {
    ctx.secrets = {
      slackBot: `xoxb-${canary('slack-bot-token')}`,
      slackSigning: canary('slack-signing-secret'),
      slackApp: `xapp-1-${canary('slack-app-token')}`,
      teamsPassword: canary('teams-password'),
      pager: whsec('webhook-pager-secret'),
      all: whsec('webhook-all-secret'),
    };
    if (opts.socketMode) ctx.socket = await startSlackSocketFake();
    const socket = ctx.socket;
    ctx.slack = await startSlackFake({
      token: ctx.secrets.slackBot,
      ...(socket ? { socketMode: { appToken: ctx.secrets.slackApp, url: socket.url } } : {}),
      users: [
        { id: SLACK.alice, email: 'alice@example.com' },
        { id: SLACK.carol, email: 'carol@example.com' },
        { id: SLACK.dave, email: 'Dave@Example.com' },
        { id: SLACK.bob, email: 'bob@example.com' },
        { id: SLACK.stranger, email: 'nobody@example.com' },
        { id: SLACK.twin, email: 'twin@example.com' },
      ],
    });
    ctx.teams = await startTeamsFake({
      appId: APP_ID,
      appPassword: ctx.secrets.teamsPassword,
      members: { [TEAMS_USER.alice]: { userPrincipalName: 'alice.smith@corp.example', email: 'Alice@example.com' }, [TEAMS_USER.dave]: { userPrincipalName: 'dave@example.com', email: 'dave@example.com' } },
    });
    ctx.hooks = { pager: await startWebhookReceiver(ctx.secrets.pager), all: await startWebhookReceiver(ctx.secrets.all) };
    ctx.target = await startTarget();
    ctx.ws = workspace(ctx.target.url, opts.policy ? { policy: opts.policy } : {});
    const humans = configText(ctx.target.url)
      .replace('{ id: alice@example.com, groups: [release], token: "${T_ALICE}" }', `{ id: alice@example.com, groups: [release], token: "\${T_ALICE}", slackUserId: ${SLACK.alice} }`)
      .replace('{ id: bob@example.com, groups: [release, oncall], token: "${T_BOB}" }', `{ id: bob@example.com, groups: [release, oncall], token: "\${T_BOB}", teamsAadObjectId: ${AAD.bob} }`)
      .replace('{ id: carol@example.com, groups: [release, admin], token: "${T_CAROL}" }', `{ id: carol@example.com, groups: [release, admin], token: "\${T_CAROL}", slackUserId: ${SLACK.carol}, teamsAadObjectId: ${AAD.carol} }`);
    writeFileSync(
      ctx.ws.configPath,
      `${humans}
audit: { readerGroups: [admin] }
channels:
  slack: { botToken: "\${T_SLACK_BOT}", signingSecret: "\${T_SLACK_SIGNING}", teamId: ${TEAM}, channel: ${CHANNEL}, notifyApprovers: true, apiUrl: "${ctx.slack.apiUrl}"${opts.socketMode ? ', socketMode: { appToken: "${T_SLACK_APP}" }' : ''} }
  teams:
    appId: ${APP_ID}
    appPassword: "\${T_TEAMS_PASSWORD}"
    tenantId: ${TENANT}
    serviceUrl: "${ctx.teams.serviceUrl}"
    conversationId: "${CONVERSATION}"
    notifyApprovers: true
    openIdMetadataUrl: "${ctx.teams.openIdMetadataUrl}"
    tokenUrl: "${ctx.teams.tokenUrl}"
  webhooks:
    - { name: pager, url: "${ctx.hooks.pager.url}/hook", secret: "\${T_WH_PAGER}", events: [action.pending, action.approved, action.denied, action.expired], rules: [releases, quick] }
    - { name: all, url: "${ctx.hooks.all.url}/hook", secret: "\${T_WH_ALL}" }
  delivery: ${opts.delivery ?? '{ initialBackoff: 100ms, maxBackoff: 500ms, timeout: 2s, intervalMs: 100, maxAttempts: 50 }'}
`,
    );
    Object.assign(ctx.ws.env, {
      T_SLACK_BOT: ctx.secrets.slackBot,
      T_SLACK_SIGNING: ctx.secrets.slackSigning,
      T_SLACK_APP: ctx.secrets.slackApp,
      T_TEAMS_PASSWORD: ctx.secrets.teamsPassword,
      T_WH_PAGER: ctx.secrets.pager,
      T_WH_ALL: ctx.secrets.all,
      ...opts.env,
    });
    ctx.server = await startServer(ctx.ws);
    ctx.restart = async () => {
      await ctx.server.stop();
      ctx.server = await startServer(ctx.ws);
    };
  });
  afterAll(async () => {
    await ctx.server?.stop();
    // What the fakes received (bodies, not the credentials the gateway must send them), for the canary scan.
    keepText(
      'channel-payloads',
      JSON.stringify({
        slack: { messages: ctx.slack?.messages, ephemerals: ctx.slack?.ephemerals, views: ctx.slack?.views },
        teams: ctx.teams?.activities,
        webhooks: [...(ctx.hooks?.pager.received ?? []), ...(ctx.hooks?.all.received ?? [])].map((x) => x.body),
        target: ctx.target?.received.map((r) => r.body),
      }),
    );
    await Promise.all([ctx.socket?.close(), ctx.slack?.close(), ctx.teams?.close(), ctx.hooks?.pager.close(), ctx.hooks?.all.close(), ctx.target?.close()]);
    ctx.ws?.cleanup();
  });
  return ctx;
}

/** Submits a release (two approvals from group:release) as the agent deploy-bot (owned by carol). */
export function submitRelease(ctx: ChannelContext, tag = `v${randomBytes(3).toString('hex')}`): Promise<Action> {
  return ctx.server.client(ctx.ws.tokens.agent).submit({
    kind: 'http',
    target: 'github',
    input: { method: 'POST', path: '/repos/acme/app/releases', body: { tag_name: tag, notes: '<!channel> *bold* ```x``` <http://evil.example|click>' } },
    justification: 'Ship the fix for <@U999> & friends',
    mode: 'decide',
  });
}

/** The Slack review message posted for an action (waits for it). */
export async function slackPost(ctx: ChannelContext, actionId: string) {
  const m = await until(async () => ctx.slack.posts().find((p) => p.channel === CHANNEL && JSON.stringify(p.blocks).includes(actionId)), (x) => !!x);
  if (!m) throw new Error(`no Slack message for ${actionId}`);
  return m;
}

/** The Teams card posted for an action (waits for it). */
export async function teamsCard(ctx: ChannelContext, actionId: string) {
  const a = await until(async () => ctx.teams.cards().find((c) => JSON.stringify(c.body).includes(actionId)), (x) => !!x);
  if (!a) throw new Error(`no Teams card for ${actionId}`);
  return a;
}

export async function postSlack(ctx: ChannelContext, signed: { body: string; headers: Record<string, string> }) {
  const res = await fetch(`${ctx.server.url}/integrations/slack/interactions`, { method: 'POST', headers: signed.headers, body: signed.body });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

export async function postTeams(ctx: ChannelContext, activity: Record<string, unknown>, token: string | undefined) {
  const res = await fetch(`${ctx.server.url}/integrations/teams/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(activity),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}
