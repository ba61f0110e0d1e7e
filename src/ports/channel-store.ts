import type { AuditDraft } from '../domain/audit-entry.js';

/**
 * Durable state of chat channels and webhooks. Deliveries are work items found in the
 * store, never only in memory: they survive restarts and several processes share them
 * (claims are leases written in a transaction, so one delivery runs in one place).
 */

export const DELIVERY_KINDS = ['sync', 'event'] as const;
/** `sync`: render an action's current state in a chat channel. `event`: send one webhook event. */
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];

export const DELIVERY_STATUSES = ['pending', 'done', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface NewDelivery {
  channel: string;
  kind: DeliveryKind;
  actionId: string;
  /** Events only: unique per channel (the webhook-id); an event enqueued twice is stored once. */
  eventKey?: string;
  eventType?: string;
  /** Events only: the exact body sent on every attempt. */
  payload?: string;
}

export interface Delivery extends NewDelivery {
  id: number;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryAttempt {
  attempt: number;
  ok: boolean;
  /** What happened: `chat.update ok`, `HTTP 503`, an error code. Never a secret. */
  detail?: string;
  durationMs: number;
  at: string;
}

/** One message sent for an action in a channel, to one target (a channel or a person). */
export interface ChatMessage {
  target: string;
  /** Channel-specific reference (Slack: channel + ts; Teams: conversation + activity id + service URL). */
  ref: Record<string, string>;
  /** The action version this message shows. */
  renderedVersion: number;
  /** How many of the action's reviews were replied in the message's thread. */
  replied: number;
}

export type DeliveryOutcome =
  /** Sync: done only if the rendered version is still the action's current one; otherwise it stays pending, due now. */
  | { type: 'done' }
  | { type: 'retry'; at: string; error: string }
  | { type: 'dead'; error: string };

export interface FinishedDelivery {
  id: number;
  owner: string;
  outcome: DeliveryOutcome;
  attempt: DeliveryAttempt;
  messages?: { actionId: string; channel: string; list: readonly ChatMessage[] } | undefined;
}

export interface DeliveryQuery {
  actionId?: string;
  channel?: string;
  status?: DeliveryStatus;
  limit: number;
  /** Newest first: only deliveries with an id below this. */
  beforeId?: number;
}

export interface ChannelStore {
  /** The feed's position (next audit sequence number to read), or undefined if never started. */
  feedPosition(feed: string): Promise<number | undefined>;
  /** Starts the feed at `seq` unless it already has a position. Returns the position. */
  startFeed(feed: string, seq: number): Promise<number>;
  /**
   * One round of the dispatcher, in one transaction, so that its bookkeeping costs one
   * commit whatever it holds:
   * 1. `feed`: moves the feed from `from` to `to` and enqueues the deliveries found in
   *    between; nothing of it is written if another process moved the feed first
   *    (`advanced: false`). A sync already pending for the same channel and action is
   *    brought forward instead of added.
   * 2. `finished`: records each attempt's outcome, the messages it sent or updated, and
   *    the attempt itself (`lost` if the lease is no longer the owner's). A sync is done
   *    only if its messages show the action's current version; otherwise it stays
   *    pending, due now (reconciliation).
   * 3. `claim`: leases up to `limit` due deliveries to `owner` until `now + leaseMs`.
   *    Deliveries of one channel and action are claimed in order (a later one waits
   *    while an earlier one is pending); channels in `skip` are left alone.
   */
  cycle(round: {
    now: string;
    feed?: { feed: string; from: number; to: number; deliveries: readonly NewDelivery[] } | undefined;
    finished?: readonly FinishedDelivery[] | undefined;
    claim?: { owner: string; leaseMs: number; limit: number; skip?: readonly string[] | undefined } | undefined;
  }): Promise<{ advanced?: boolean; settled: Array<DeliveryStatus | 'lost'>; claimed: Delivery[] }>;
  /** The messages sent for an action in a channel. */
  messages(actionId: string, channel: string): Promise<ChatMessage[]>;
  listDeliveries(q: DeliveryQuery): Promise<Delivery[]>;
  attempts(deliveryId: number): Promise<DeliveryAttempt[]>;
  /**
   * Deletes up to `limit` finished deliveries (done or dead) last updated before `before`,
   * with their attempts. Returns how many were deleted. Pending ones are never deleted.
   */
  prune(before: string, limit: number): Promise<number>;
  /** Remembers an interaction; false if it was seen before (a replay). Forgets those seen before `forgetBefore`. */
  rememberInteraction(key: string, now: string, forgetBefore: string): Promise<boolean>;
  /**
   * Cancels every pending delivery of these channels (status `dead`, `error` as its last
   * error, lease released: a running attempt's outcome is then `lost`, never retried) and
   * appends `entry` with `data.cancelledDeliveries` set to how many, in one transaction.
   * A config reload that removes a channel does this (docs/operations.md).
   */
  cancelPending(a: { channels: readonly string[]; now: string; error: string; entry: AuditDraft }): Promise<number>;
}
