import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { webhookName } from '../config/channels-schema.js';
import { parseDuration } from '../domain/duration.js';
import { isAppError } from '../domain/errors.js';
import type { Redactor } from '../domain/redact-secrets.js';
import { reviewCard } from '../domain/review-card.js';
import { deliveriesRoutes } from '../http/deliveries-routes.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { Channel, EventSink } from '../ports/channel.js';
import type { ChannelStore } from '../ports/channel-store.js';
import type { ChatLinkStore } from '../ports/console-sessions.js';
import { createChatIdentityGate } from '../services/chat-links.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { ActionEvents } from '../services/action-events.js';
import type { ChannelDispatcher } from '../services/channel-dispatcher.js';
import { createChannelDispatcher } from '../services/channel-dispatcher.js';
import { createChatReviews, createHumanDirectory } from '../services/chat-review.js';
import type { HumanDirectory } from '../services/chat-review.js';
import type { ReviewService } from '../services/review-service.js';
import { createWebhookSink } from '../adapters/channels/webhook/webhook-sink.js';

export interface ChannelsRuntime {
  /** Route groups for buildApp: the integration endpoints and /v1/deliveries. */
  plugins: Array<(app: FastifyInstance) => void | Promise<void>>;
  /** Starts the dispatcher (and Slack Socket Mode) once the server listens. */
  start(): Promise<void>;
  close(): Promise<void>;
  dispatcher?: ChannelDispatcher;
}

/**
 * Interactions are remembered this long: far longer than Slack's 5-minute signature
 * window and a Bot Framework token's lifetime (about an hour), so a captured click
 * cannot be replayed once forgotten. Clicks come at human pace: the table stays small.
 */
const REMEMBER_MS = 24 * 3_600_000;

/** An error as it may be recorded: code and message, with every configured secret removed. */
export function describeError(e: unknown, redactor: Redactor): string {
  const err = e as { code?: unknown; message?: unknown; name?: unknown; cause?: { code?: unknown } };
  const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : typeof err?.name === 'string' ? err.name : 'Error';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return redactor.text(`${code}: ${message}`).slice(0, 500);
}

/**
 * Chat channels and webhooks, wired from config. Everything here works from the
 * store (deliveries, message references, the feed cursor, interactions seen), so it
 * runs the same after a restart and alongside other processes on the same database.
 */
export async function createChannels(args: {
  config: Config;
  store: Store & { channels: ChannelStore; console?: ChatLinkStore };
  events: ActionEvents;
  reviews: ReviewService;
  authenticator: Authenticator;
  logger: Logger;
  clock: Clock;
  publicUrl(): string;
  /** The config's redactor: errors are recorded without secrets. */
  redactor: Redactor;
  bodyLimit: number;
  /** The humans of the running config (a reload changes them); the config's by default. */
  humans?: () => Config['humans'];
}): Promise<ChannelsRuntime> {
  const { config, store, logger, clock } = args;
  const plugins: ChannelsRuntime['plugins'] = [deliveriesRoutes({ channels: store.channels, authenticator: args.authenticator, auditorGroups: config.audit.readerGroups })];
  const c = config.channels;
  if (!c) return { plugins, start: async () => {}, close: async () => {} };

  const log = logger.child({ component: 'channels' });
    const timeoutMs = parseDuration(c.delivery.timeout);
  const directory = liveDirectory(args.humans ?? (() => config.humans));
  const chatReviews = createChatReviews({ reviews: args.reviews, store });
  // Chat accounts linked through a console sign-in; with requireLinked, only those may decide.
  const identities =
    config.console?.enabled && store.console
      ? createChatIdentityGate({ links: store.console, humans: directory.all(), requireLinked: c.requireLinked, clock, linkTtlMs: parseDuration(config.console.linkTtl), publicUrl: args.publicUrl })
      : undefined;
  const remember = (key: string) => {
    const now = clock.now();
    return store.channels.rememberInteraction(key, now.toISOString(), new Date(now.getTime() - REMEMBER_MS).toISOString());
  };
  const chats: Channel[] = [];
  const sinks: EventSink[] = [];
  const closers: Array<() => Promise<void>> = [];
  let startSocket: (() => Promise<void>) | undefined;

  if (c.slack) {
    const s = c.slack;
    // Loaded only when configured, like Teams: the Slack SDK is not small either.
    const [{ createSlackApi }, { createSlackChannel }, { createSlackInteractions }, { slackRoutes }] = await Promise.all([
      import('../adapters/channels/slack/slack-api.js'),
      import('../adapters/channels/slack/slack-channel.js'),
      import('../adapters/channels/slack/slack-interactions.js'),
      import('../http/slack-routes.js'),
    ]);
    const { api } = createSlackApi({ token: s.botToken, apiUrl: s.apiUrl, timeoutMs, logger: log });
    chats.push(createSlackChannel({ api, channel: s.channel, notifyApprovers: s.notifyApprovers, humans: directory.all() }));
    const describe = async (id: string) => {
      const a = await store.getAction(id);
      return a ? reviewCard(a, args.publicUrl()).title : undefined;
    };
    const interactions = createSlackInteractions({ api, teamId: s.teamId, directory, ...(identities ? { identities } : {}), reviews: chatReviews, remember, describe, logger: log, now: () => clock.now().getTime() });
    plugins.push(slackRoutes({ signingSecret: s.signingSecret, interactions, now: () => clock.now().getTime(), logger: log, bodyLimit: args.bodyLimit }));
    if (s.socketMode) {
      const appToken = s.socketMode.appToken;
      startSocket = async () => {
        const { startSlackSocketMode } = await import('../adapters/channels/slack/slack-socket.js');
        const socket = await startSlackSocketMode({ appToken, apiUrl: s.apiUrl, interactions, logger: log });
        closers.push(() => socket.close());
      };
    }
  }

  if (c.teams) {
    const t = c.teams;
    // Loaded only when configured: the Microsoft SDK is large.
    const [{ createBotFrameworkVerifier }, { createBotTokenSource }, { createTeamsConnector }, { createTeamsChannel }, { createTeamsActivities }] = await Promise.all([
      import('../adapters/channels/teams/teams-jwt.js'),
      import('../adapters/channels/teams/teams-token.js'),
      import('../adapters/channels/teams/teams-connector.js'),
      import('../adapters/channels/teams/teams-channel.js'),
      import('../adapters/channels/teams/teams-activities.js'),
    ]);
    const connector = createTeamsConnector(createBotTokenSource({ tokenUrl: t.tokenUrl, appId: t.appId, appPassword: t.appPassword, scope: t.tokenScope }));
    chats.push(createTeamsChannel({ connector, serviceUrl: t.serviceUrl, conversationId: t.conversationId, notifyApprovers: t.notifyApprovers, humans: directory.all(), appId: t.appId, tenantId: t.tenantId }));
    const activities = createTeamsActivities({
      verifier: createBotFrameworkVerifier({ openIdMetadataUrl: t.openIdMetadataUrl, issuer: t.issuer, appId: t.appId, now: () => clock.now().getTime() }),
      tenants: new Set([t.tenantId, ...t.allowedTenants].map((x) => x.toLowerCase())),
      directory,
      ...(identities ? { identities } : {}),
      reviews: chatReviews,
      getAction: (id) => store.getAction(id),
      connector,
      serviceUrl: t.serviceUrl,
      publicUrl: args.publicUrl,
      consoleLinks: !!config.console?.enabled,
      remember,
      logger: log,
    });
    const { teamsRoutes } = await import('../http/teams-routes.js');
    plugins.push(teamsRoutes({ activities }));
  }

  c.webhooks.forEach((w, i) => sinks.push(createWebhookSink({ name: webhookName(w, i), url: w.url, secret: w.secret, events: w.events, rules: w.rules })));

  const dispatcher =
    chats.length || sinks.length
      ? createChannelDispatcher({
          store,
          channels: store.channels,
          chats,
          sinks,
          clock,
          owner: randomUUID(),
          publicUrl: args.publicUrl,
          consoleLinks: !!config.console?.enabled,
          maxAttempts: c.delivery.maxAttempts,
          initialBackoffMs: parseDuration(c.delivery.initialBackoff),
          maxBackoffMs: parseDuration(c.delivery.maxBackoff),
          timeoutMs,
          concurrency: c.delivery.concurrency,
          intervalMs: c.delivery.intervalMs,
          retentionMs: parseDuration(c.delivery.retention),
          describe: (e) => describeError(e, args.redactor),
          onError: (e, context) => {
            if (isAppError(e) && e.code === 'STORAGE_ERROR') log.error({ err: e, context }, 'channel delivery could not be recorded');
            else log.error({ err: e, context }, 'channel delivery failed');
          },
        })
      : undefined;
  let unsubscribe: (() => void) | undefined;

  return {
    plugins,
    dispatcher,
    async start() {
      if (dispatcher) {
        await dispatcher.start();
        // Committed changes wake the dispatcher at once; it never runs in the gate's path.
        const off = args.events.subscribe(() => dispatcher.wake());
        unsubscribe = () => void off();
      }
      if (startSocket) await startSocket();
      log.info({ chats: chats.map((x) => x.name), webhooks: sinks.map((x) => x.name) }, 'channels started');
    },
    async close() {
      unsubscribe?.();
      for (const close of closers) await close();
      await dispatcher?.close();
    },
  };
}

/** The chat directory of the running config's humans, rebuilt when a reload replaces them. */
function liveDirectory(humans: () => Config['humans']): HumanDirectory {
  let of: Config['humans'] | undefined;
  let dir: HumanDirectory | undefined;
  const cur = (): HumanDirectory => {
    const h = humans();
    if (h !== of || !dir) {
      of = h;
      dir = createHumanDirectory(h);
    }
    return dir;
  };
  return { resolve: (who) => cur().resolve(who), hasExplicit: (who) => cur().hasExplicit(who), all: () => cur().all() };
}
