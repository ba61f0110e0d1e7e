import type { Logger } from 'pino';
import type { ChannelsConfig } from '../config/channels-schema.js';
import { webhookName } from '../config/channels-schema.js';
import { parseDuration } from '../domain/duration.js';
import type { Channel, EventSink } from '../ports/channel.js';
import type { DirectoryHuman } from '../services/chat-review.js';
import type { SlackApi } from '../adapters/channels/slack/slack-api.js';
import type { TeamsConnector } from '../adapters/channels/teams/teams-connector.js';
import { createWebhookSink } from '../adapters/channels/webhook/webhook-sink.js';

/**
 * The outbound side of one config's `channels:`: the chat channels (post, update, reply)
 * and the webhooks. Built on the main thread, where the Slack and Teams endpoints answer
 * with the same clients, and again in the delivery thread (delivery-thread-worker.ts),
 * which makes the dispatcher's calls.
 */
export interface ChannelSenders {
  /** Slack first, then Teams: the order of `chats` everywhere. */
  chats: Channel[];
  sinks: EventSink[];
  slackApi?: SlackApi;
  teamsConnector?: TeamsConnector;
}

export async function buildSenders(c: ChannelsConfig, humans: readonly DirectoryHuman[], logger: Logger): Promise<ChannelSenders> {
  const out: ChannelSenders = { chats: [], sinks: [] };
  if (c.slack) {
    const s = c.slack;
    // Loaded only when configured, like Teams: the Slack SDK is not small either.
    const [{ createSlackApi }, { createSlackChannel }] = await Promise.all([import('../adapters/channels/slack/slack-api.js'), import('../adapters/channels/slack/slack-channel.js')]);
    const { api } = createSlackApi({ token: s.botToken, apiUrl: s.apiUrl, timeoutMs: parseDuration(c.delivery.timeout), logger });
    out.slackApi = api;
    out.chats.push(createSlackChannel({ api, channel: s.channel, notifyApprovers: s.notifyApprovers, humans }));
  }
  if (c.teams) {
    const t = c.teams;
    // Loaded only when configured (the Microsoft SDK is large), one module after the other:
    // see buildChannelSet on why never in a Promise.all.
    const { createBotTokenSource } = await import('../adapters/channels/teams/teams-token.js');
    const { createTeamsConnector } = await import('../adapters/channels/teams/teams-connector.js');
    const { createTeamsChannel } = await import('../adapters/channels/teams/teams-channel.js');
    const connector = createTeamsConnector(createBotTokenSource({ tokenUrl: t.tokenUrl, appId: t.appId, appPassword: t.appPassword, scope: t.tokenScope }));
    out.teamsConnector = connector;
    out.chats.push(createTeamsChannel({ connector, serviceUrl: t.serviceUrl, conversationId: t.conversationId, notifyApprovers: t.notifyApprovers, humans, appId: t.appId, tenantId: t.tenantId }));
  }
  c.webhooks.forEach((w, i) => out.sinks.push(createWebhookSink({ name: webhookName(w, i), url: w.url, secret: w.secret, events: w.events, rules: w.rules })));
  return out;
}
