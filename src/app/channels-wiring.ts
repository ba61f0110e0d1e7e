import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { AuditDraft } from '../domain/audit-entry.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { Redactor } from '../domain/redact-secrets.js';
import { deliveriesRoutes } from '../http/deliveries-routes.js';
import { slackRoutes } from '../http/slack-routes.js';
import { teamsRoutes } from '../http/teams-routes.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { ChannelStore } from '../ports/channel-store.js';
import type { ChatLinkStore } from '../ports/console-sessions.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { ActionEvents } from '../services/action-events.js';
import type { ChannelDispatcher } from '../services/channel-dispatcher.js';
import { createChannelDispatcher } from '../services/channel-dispatcher.js';
import { createChatReviews, createHumanDirectory } from '../services/chat-review.js';
import type { HumanDirectory } from '../services/chat-review.js';
import type { ReviewService } from '../services/review-service.js';
import type { SlackInteractions } from '../adapters/channels/slack/slack-interactions.js';
import type { ChannelSet, ChannelSetDeps } from './channels-build.js';
import { buildChannelSet, channelChanges } from './channels-build.js';
import type { DeliveryThread } from './delivery-thread.js';
import { createDeliveryThread, deliveryThreadAvailable } from './delivery-thread.js';

export interface ChannelsRuntime {
  /** Route groups for buildApp: the integration endpoints and /v1/deliveries. */
  plugins: Array<(app: FastifyInstance) => void | Promise<void>>;
  /** Starts the dispatcher (and Slack Socket Mode) once the server listens. */
  start(): Promise<void>;
  close(): Promise<void>;
  /**
   * A config reload: builds the next config's channels in full (throws when it cannot:
   * the reload is then refused and the running set kept) and says what would change.
   * Nothing is swapped before `commit`.
   */
  prepare(next: Config): Promise<ChannelsChange>;
  readonly dispatcher: ChannelDispatcher | undefined;
}

/** A prepared channels reload: what it adds, removes and changes, and the swap itself. */
export interface ChannelsChange {
  added: string[];
  removed: string[];
  changed: string[];
  /**
   * Writes `entry` (the reload's audit entry) and, in the same transaction, cancels the
   * pending deliveries of removed channels; then swaps the channels in. An in-flight
   * delivery to a removed channel ends as it was going (its outcome is not recorded as a
   * retry), and no later attempt is made: nothing goes to a stale endpoint.
   */
  commit(entry: AuditDraft): Promise<void>;
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

/** The last error of a delivery cancelled because a reload removed its channel. */
export const CANCELLED_BY_RELOAD = 'cancelled: the channel was removed by a config reload';

/**
 * Chat channels and webhooks, wired from config. Everything here works from the
 * store (deliveries, message references, the feed cursor, interactions seen), so it
 * runs the same after a restart and alongside other processes on the same database.
 * A config reload swaps the channels in place (prepare, then commit): the Slack and
 * Teams endpoints always exist and answer with the running set (404 when a channel is
 * not configured), and the one dispatcher is reconfigured, never restarted.
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
  const log = logger.child({ component: 'channels' });
  const directory = liveDirectory(args.humans ?? (() => config.humans));
  const deps: ChannelSetDeps = {
    store,
    chatReviews: createChatReviews({ reviews: args.reviews, store }),
    directory,
    clock,
    logger: log,
    publicUrl: args.publicUrl,
    remember: (key: string) => {
      const now = clock.now();
      return store.channels.rememberInteraction(key, now.toISOString(), new Date(now.getTime() - REMEMBER_MS).toISOString());
    },
  };
  let set: ChannelSet = await buildChannelSet(config, deps);
  let dispatcher: ChannelDispatcher | undefined;
  let started = false;
  let closed = false;
  let unsubscribe: (() => void) | undefined;
  let socket: { close(): Promise<void> } | undefined;

  const plugins: ChannelsRuntime['plugins'] = [
    deliveriesRoutes({ channels: store.channels, authenticator: args.authenticator, auditorGroups: config.audit.readerGroups }),
    // Always routed: a reload may add Slack or Teams; each request is answered by the running set.
    slackRoutes({ current: () => set.slack, now: () => clock.now().getTime(), logger: log, bodyLimit: args.bodyLimit }),
    teamsRoutes({ current: () => set.teams?.activities }),
  ];

  const hasAny = (s: ChannelSet) => s.chats.length > 0 || s.sinks.length > 0;

  /** Made with the first channel: the dispatcher's outbound calls run there (absent from TypeScript sources). */
  let thread: DeliveryThread | undefined;
  let sending: { of: ChannelSet; chats: ChannelSet['chats']; sinks: ChannelSet['sinks'] } | undefined;
  /** A set as the dispatcher sends to it (through the delivery thread when there is one), made once per set. */
  function outbound(s: ChannelSet): { chats: ChannelSet['chats']; sinks: ChannelSet['sinks'] } {
    if (sending?.of === s) return sending;
    if (!thread && hasAny(s) && deliveryThreadAvailable()) thread = createDeliveryThread({ logger: log });
    sending = { of: s, ...(thread ? thread.outbound(s) : { chats: s.chats, sinks: s.sinks }) };
    return sending;
  }
  // Started now, while the server starts: the thread loads the SDKs before the first delivery.
  if (hasAny(set)) outbound(set);

  /** The dispatcher, made the first time any channel exists (at start or at a reload), then only reconfigured. */
  let making: Promise<void> | undefined;
  function ensureDispatcher(): Promise<void> {
    if (dispatcher || !hasAny(set)) return Promise.resolve();
    making ??= makeDispatcher().finally(() => (making = undefined));
    return making;
  }
  async function makeDispatcher(): Promise<void> {
    outbound(set);
    await thread?.ready();
    if (closed) return;
    // The set may have been swapped by a reload meanwhile: the one running now.
    const { chats, sinks } = outbound(set);
    const d = createChannelDispatcher({
      store,
      channels: store.channels,
      chats,
      sinks,
      clock,
      owner: randomUUID(),
      publicUrl: args.publicUrl,
      ...set.delivery,
      describe: (e) => describeError(e, args.redactor),
      onError: (e, context) => {
        if (isAppError(e) && e.code === 'STORAGE_ERROR') log.error({ err: e, context }, 'channel delivery could not be recorded');
        else log.error({ err: e, context }, 'channel delivery failed');
      },
    });
    dispatcher = d;
    await d.start();
    // Committed changes wake the dispatcher at once; it never runs in the gate's path.
    const off = args.events.subscribe(() => d.wake());
    unsubscribe = () => void off();
  }

  async function startSocket(): Promise<void> {
    const s = set.slack;
    if (!s?.socket) return;
    const { startSlackSocketMode } = await import('../adapters/channels/slack/slack-socket.js');
    // The connection outlives reloads that leave Slack's section alone: it hands each interaction to the running set.
    const interactions: SlackInteractions = {
      receive: (payload, key) => (set.slack ? set.slack.interactions.receive(payload, key) : Promise.reject(new AppError('ROUTE_NOT_FOUND', 'Slack is not configured on this gateway'))),
    };
    socket = await startSlackSocketMode({ appToken: s.socket.appToken, apiUrl: s.socket.apiUrl, interactions, logger: log });
  }

  return {
    plugins,
    get dispatcher() {
      return dispatcher;
    },
    async start() {
      started = true;
      await ensureDispatcher();
      await startSocket();
      if (hasAny(set)) log.info({ chats: set.chats.map((x) => x.name), webhooks: set.sinks.map((x) => x.name) }, 'channels started');
    },
    async prepare(next) {
      const nextSet = await buildChannelSet(next, deps);
      const diff = channelChanges(set, nextSet);
      return {
        ...diff,
        async commit(entry) {
          if (closed) throw new AppError('INTERNAL', 'channels are closed');
          const data = { ...entry.data, channels: diff };
          if (diff.removed.length) {
            await store.channels.cancelPending({ channels: diff.removed, now: clock.now().toISOString(), error: CANCELLED_BY_RELOAD, entry: { ...entry, data } });
          } else {
            await store.appendAudit([{ ...entry, data }]);
          }
          const before = set;
          set = nextSet;
          if (dispatcher) {
            const { chats, sinks } = outbound(set);
            dispatcher.reconfigure({ chats, sinks, ...set.delivery });
          }
          if (!started) return;
          await ensureDispatcher();
          // Socket Mode holds a connection made with the old app token: made again when Slack changed.
          if (before.slack !== undefined && (diff.changed.includes('slack') || diff.removed.includes('slack'))) {
            await socket?.close();
            socket = undefined;
          }
          if (!socket) void startSocket().catch((e: unknown) => log.error({ err: e }, 'slack socket mode could not connect after the reload'));
          log.info({ ...diff }, 'channels reloaded');
        },
      };
    },
    async close() {
      closed = true;
      unsubscribe?.();
      await socket?.close();
      await dispatcher?.close();
      // After the dispatcher: the deliveries it waits for finish in the thread.
      await thread?.close();
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
