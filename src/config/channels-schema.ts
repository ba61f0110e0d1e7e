import { z } from 'zod';
import { isDuration } from '../domain/duration.js';
import type { EventType } from '../domain/notify-feed.js';
import { EVENT_TYPES } from '../domain/notify-feed.js';
import { isHttpUrl } from './url-protocol.js';

/**
 * `channels:` — where review requests are posted (Slack, Microsoft Teams) and where
 * signed events are sent (outgoing webhooks). Composed into the one config schema.
 */

const duration = z.string().refine(isDuration, { message: 'expected a duration such as 45s, 15m or 2h' });
/** Microsoft GUIDs (app and tenant ids), which need not follow RFC 9562's version bits. */
const guid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected a GUID');
const httpUrl = z
  .string()
  .url()
  .refine(isHttpUrl, 'expected an http or https URL');

export const WEBHOOK_EVENTS = EVENT_TYPES;
export type WebhookEventType = EventType;

export const slackSchema = z
  .object({
    botToken: z.string().regex(/^xoxb-[\x21-\x7e]+$/, 'expected a bot token (xoxb-...)').describe('The bot user OAuth token (`xoxb-...`), as `${ENV}`. Scopes: chat:write, users:read, users:read.email (see docs/channels.md).'),
    signingSecret: z.string().min(16).describe('The app\'s signing secret, as `${ENV}`: every interaction request is verified with it (v0 HMAC-SHA256, constant time).'),
    teamId: z.string().regex(/^T[A-Z0-9]+$/, 'expected a Slack team id (T...)').describe('The workspace id; interactions from any other workspace are refused.'),
    channel: z.string().regex(/^[CG][A-Z0-9]+$/, 'expected a channel id (C... or G...)').optional().describe('Channel id where review requests are posted.'),
    notifyApprovers: z.boolean().default(false).describe('Also send each request directly (DM) to every eligible approver who has a `slackUserId`.'),
    apiUrl: httpUrl.default('https://slack.com/api/').describe('Base URL of the Slack Web API (overridable, for tests and proxies).'),
    socketMode: z
      .object({
        appToken: z.string().regex(/^xapp-[\x21-\x7e]+$/, 'expected an app-level token (xapp-...)').describe('App-level token with `connections:write`, as `${ENV}`.'),
      })
      .strict()
      .optional()
      .describe('Receive interactions over Socket Mode (for workspaces without a public endpoint) instead of the HTTP endpoint.'),
  })
  .strict()
  .refine((s) => s.channel !== undefined || s.notifyApprovers, { message: 'give a channel, or set notifyApprovers: true' });

export const teamsSchema = z
  .object({
    appId: guid.describe('The bot\'s Microsoft App ID (Entra app registration client id): the required audience of inbound tokens.'),
    appPassword: z.string().min(8).describe('The app registration\'s client secret, as `${ENV}`; used to get tokens for outbound calls.'),
    tenantId: guid.describe('Your Entra tenant id: only activities from this tenant (and `allowedTenants`) are accepted.'),
    allowedTenants: z.array(guid).default([]).describe('Further tenant ids to accept.'),
    serviceUrl: httpUrl.describe('The Bot Connector service URL of the conversation (e.g. https://smba.trafficmanager.net/emea/); logged when the bot is installed.'),
    conversationId: z.string().min(1).max(1024).optional().describe('The Teams channel conversation where review requests are posted (logged when the bot is installed).'),
    notifyApprovers: z
      .boolean()
      .default(false)
      .describe('Also send each request in a personal chat to every eligible approver who has a `teamsAadObjectId` (the app must be installed for them in personal scope).'),
    openIdMetadataUrl: httpUrl
      .default('https://login.botframework.com/v1/.well-known/openidconfiguration')
      .describe('OpenID metadata of the Bot Framework token issuer; the signing keys come from its `jwks_uri` (overridable, for tests).'),
    issuer: z.string().min(1).default('https://api.botframework.com').describe('Required `iss` of inbound tokens.'),
    tokenUrl: httpUrl
      .default('https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token')
      .describe('OAuth 2.0 token endpoint for outbound calls (client credentials; overridable, for tests).'),
    tokenScope: z.string().default('https://api.botframework.com/.default').describe('Scope requested for outbound tokens.'),
  })
  .strict()
  .refine((t) => t.conversationId !== undefined || t.notifyApprovers, { message: 'give a conversationId, or set notifyApprovers: true' });

export const webhookSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).optional().describe('A name for deliveries and logs (default `webhook-<n>`).'),
    url: httpUrl.describe('Where events are POSTed.'),
    secret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'expected whsec_ followed by at least 24 base64-encoded bytes')
      .describe('Standard Webhooks signing secret, `whsec_<base64>`, as `${ENV}`.'),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).default([...WEBHOOK_EVENTS]).describe('Event types to send.'),
    rules: z.array(z.string().min(1)).optional().describe('Only actions decided by one of these policy rules (default: all).'),
  })
  .strict();

export const deliverySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(50).default(12).describe('Attempts per delivery before it is given up (recorded as dead).'),
    initialBackoff: duration.default('1s').describe('Wait before the first retry; doubled on every retry (with jitter).'),
    maxBackoff: duration.default('15m').describe('Longest wait between retries.'),
    timeout: duration.default('10s').describe('Timeout of one outbound call.'),
    concurrency: z.number().int().min(1).max(64).default(8).describe('Deliveries run at once by this process.'),
    intervalMs: z.number().int().min(50).max(60_000).default(1000).describe('How often the delivery queue is swept (committed changes also wake it at once).'),
    retention: duration.default('30d').describe('Finished deliveries (done or dead) and their attempts are deleted this long after their last attempt. Pending ones are kept.'),
    threadNice: z
      .number()
      .int()
      .min(0)
      .max(19)
      .default(10)
      .describe(
        'Outbound calls (Slack, Teams, webhooks) run in their own thread; on Linux its nice value is raised by this much (at most to 19), so that on busy cores it yields the CPU to the decisions. It is never starved: the scheduler still gives it a share. 0 keeps the gateway\'s priority.',
      ),
  })
  .strict();

export const channelsSchema = z
  .object({
    slack: slackSchema.optional().describe('Post review requests to Slack, with Approve / Deny buttons.'),
    teams: teamsSchema.optional().describe('Post review requests to Microsoft Teams (Adaptive Cards, Universal Actions).'),
    webhooks: z.array(webhookSchema).default([]).describe('Signed outgoing webhooks (Standard Webhooks), one JSON event per state change.'),
    requireLinked: z
      .boolean()
      .default(false)
      .describe('Refuse chat approvals from chat accounts not linked to a human through a console sign-in (docs/console.md): no approval rests on a configured or email mapping alone. Needs `console`.'),
    delivery: deliverySchema.default({ maxAttempts: 12, initialBackoff: '1s', maxBackoff: '15m', timeout: '10s', concurrency: 8, intervalMs: 1000, retention: '30d', threadNice: 10 }).describe('Retries and timeouts of every outbound delivery.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = c.webhooks.map((w, i) => w.name ?? `webhook-${i + 1}`);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['webhooks', i, 'name'], message: `duplicate webhook name "${n}"` });
    });
  });

export type ChannelsConfig = z.infer<typeof channelsSchema>;
export type SlackConfig = z.infer<typeof slackSchema>;
export type TeamsConfig = z.infer<typeof teamsSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
export type DeliveryConfig = z.infer<typeof deliverySchema>;

export function webhookName(w: WebhookConfig, index: number): string {
  return w.name ?? `webhook-${index + 1}`;
}
