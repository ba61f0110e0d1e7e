import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { ChannelsConfig } from '../config/channels-schema.js';
import { parseDuration } from '../domain/duration.js';
import { reviewCard } from '../domain/review-card.js';
import type { Channel, EventSink } from '../ports/channel.js';
import type { ChatLinkStore } from '../ports/console-sessions.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { SlackInteractions } from '../adapters/channels/slack/slack-interactions.js';
import type { TeamsActivities } from '../adapters/channels/teams/teams-activities.js';
import type { DispatcherSettings } from '../services/channel-dispatcher.js';
import { createChatIdentityGate } from '../services/chat-links.js';
import type { ChatReviews, DirectoryHuman, HumanDirectory } from '../services/chat-review.js';
import { buildSenders } from './channels-senders.js';

/**
 * Everything one config's `channels:` makes: the chat channels and webhooks the
 * dispatcher sends to, what the Slack and Teams endpoints verify and answer with, and the
 * delivery settings. Built in full before it is used, so a config reload swaps one set
 * for the next in one step (channels-wiring.ts), or refuses the config and keeps the set.
 */
export interface ChannelSet {
  chats: Channel[];
  sinks: EventSink[];
  slack?: { signingSecret: string; interactions: SlackInteractions; socket?: { appToken: string; apiUrl: string } };
  teams?: { activities: TeamsActivities };
  /** Each channel's name (`slack`, `teams`, `webhook:<name>`) and its config, to say what a reload added, removed or changed. */
  versions: ReadonlyMap<string, string>;
  delivery: Omit<DispatcherSettings, 'chats' | 'sinks'>;
  /** What the set was built from: the delivery thread builds its own senders from it. */
  source?: { channels: ChannelsConfig; humans: readonly DirectoryHuman[] };
}

export interface ChannelSetDeps {
  store: Store & { console?: ChatLinkStore };
  chatReviews: ChatReviews;
  directory: HumanDirectory;
  clock: Clock;
  logger: Logger;
  publicUrl(): string;
  remember(key: string): Promise<boolean>;
}

/** The set of a config without channels: nothing to send, no chat endpoint. */
export function emptyChannelSet(): ChannelSet {
  return { chats: [], sinks: [], versions: new Map(), delivery: deliverySettings(undefined, false) };
}

function deliverySettings(c: Config['channels'], consoleLinks: boolean): ChannelSet['delivery'] {
  const d = c?.delivery ?? { maxAttempts: 12, initialBackoff: '1s', maxBackoff: '15m', timeout: '10s', concurrency: 8, intervalMs: 1000, retention: '30d', threadNice: 10 };
  return {
    consoleLinks,
    maxAttempts: d.maxAttempts,
    initialBackoffMs: parseDuration(d.initialBackoff),
    maxBackoffMs: parseDuration(d.maxBackoff),
    timeoutMs: parseDuration(d.timeout),
    concurrency: d.concurrency,
    intervalMs: d.intervalMs,
    retentionMs: parseDuration(d.retention),
  };
}

export async function buildChannelSet(config: Config, deps: ChannelSetDeps): Promise<ChannelSet> {
  const c = config.channels;
  if (!c) return emptyChannelSet();
  const { store, clock, directory } = deps;
  const log = deps.logger;
  const consoleLinks = !!config.console?.enabled;
  const delivery = deliverySettings(c, consoleLinks);
  const versions = new Map<string, string>();
  // Chat accounts linked through a console sign-in; with requireLinked, only those may decide.
  const identities =
    config.console?.enabled && store.console
      ? createChatIdentityGate({ links: store.console, humans: directory.all(), requireLinked: c.requireLinked, clock, linkTtlMs: parseDuration(config.console.linkTtl), publicUrl: deps.publicUrl })
      : undefined;
  const set: ChannelSet = { chats: [], sinks: [], versions, delivery };

  const senders = await buildSenders(c, directory.all(), log);
  set.chats.push(...senders.chats);
  set.sinks.push(...senders.sinks);
  set.source = { channels: c, humans: directory.all() };

  if (c.slack) {
    const s = c.slack;
    const api = senders.slackApi!;
    const { createSlackInteractions } = await import('../adapters/channels/slack/slack-interactions.js');
    const describe = async (id: string) => {
      const a = await store.getAction(id);
      return a ? reviewCard(a, deps.publicUrl()).title : undefined;
    };
    const interactions = createSlackInteractions({
      api,
      teamId: s.teamId,
      directory,
      ...(identities ? { identities } : {}),
      reviews: deps.chatReviews,
      remember: deps.remember,
      describe,
      getAction: (id) => store.getAction(id),
      logger: log,
      now: () => clock.now().getTime(),
    });
    set.slack = { signingSecret: s.signingSecret, interactions, ...(s.socketMode ? { socket: { appToken: s.socketMode.appToken, apiUrl: s.apiUrl } } : {}) };
    versions.set('slack', JSON.stringify(s));
  }

  if (c.teams) {
    const t = c.teams;
    // Loaded only when configured: the Microsoft SDK is large. One after the other, never
    // in a Promise.all: teams-jwt imports jose (ESM) while the SDK's jwks-rsa require()s
    // it, and Node 20 aborts the process when a require() meets an ESM module that a
    // concurrent import() is still loading (ERR_INTERNAL_ASSERTION, "not yet fully loaded").
    const { createBotFrameworkVerifier } = await import('../adapters/channels/teams/teams-jwt.js');
    const { createTeamsActivities } = await import('../adapters/channels/teams/teams-activities.js');
    const connector = senders.teamsConnector!;
    const activities = createTeamsActivities({
      verifier: createBotFrameworkVerifier({ openIdMetadataUrl: t.openIdMetadataUrl, issuer: t.issuer, appId: t.appId, now: () => clock.now().getTime() }),
      tenants: new Set([t.tenantId, ...t.allowedTenants].map((x) => x.toLowerCase())),
      directory,
      ...(identities ? { identities } : {}),
      reviews: deps.chatReviews,
      getAction: (id) => store.getAction(id),
      connector,
      serviceUrl: t.serviceUrl,
      publicUrl: deps.publicUrl,
      consoleLinks,
      remember: deps.remember,
      logger: log,
    });
    set.teams = { activities };
    versions.set('teams', JSON.stringify(t));
  }

  set.sinks.forEach((sink, i) => versions.set(sink.name, JSON.stringify(c.webhooks[i])));
  return set;
}

/** What a reload changes, by channel name (no values: they hold secrets). */
export function channelChanges(before: ChannelSet, after: ChannelSet): { added: string[]; removed: string[]; changed: string[] } {
  const added = [...after.versions.keys()].filter((k) => !before.versions.has(k));
  const removed = [...before.versions.keys()].filter((k) => !after.versions.has(k));
  const changed = [...after.versions.keys()].filter((k) => before.versions.has(k) && before.versions.get(k) !== after.versions.get(k));
  return { added, removed, changed };
}
