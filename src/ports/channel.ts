import type { ActionRecord } from '../domain/action-record.js';
import type { Review } from '../domain/review.js';
import type { ReviewCard } from '../domain/review-card.js';

/** A message sent to one target: a channel, or one approver directly. */
export interface MessageRef {
  target: string;
  /** Channel-specific and JSON-safe (Slack: channel + ts; Teams: service URL + conversation + activity id). */
  ref: Record<string, string>;
}

/**
 * A chat channel (Slack, Microsoft Teams), shaped like an access-request bot: post a
 * review request, keep the references of the messages sent, update every one of them
 * on each state change, reply in thread for each review. References are stored by the
 * caller (ChannelStore), so updates work after a restart and from any process.
 * Every method rejects on failure; the caller retries with backoff and records it.
 */
export interface Channel {
  /** `slack`, `teams`: the channel's name in deliveries and reviews (`via`). */
  readonly name: string;
  /** Where a review request for this action goes: the configured channel and/or eligible approvers. */
  targets(action: ActionRecord): string[];
  /** Posts the review request to one target; returns the message's reference. */
  post(target: string, card: ReviewCard, signal: AbortSignal): Promise<MessageRef>;
  /** Re-renders a sent message with the action's current state (buttons gone once closed). */
  update(message: MessageRef, card: ReviewCard, signal: AbortSignal): Promise<void>;
  /** Replies in the message's thread for one review. */
  reply(message: MessageRef, review: Review, action: ActionRecord, signal: AbortSignal): Promise<void>;
}

/** An outgoing webhook: one signed JSON event per state change. */
export interface EventSink {
  /** `webhook:<name>`: the delivery's channel. */
  readonly name: string;
  /** Whether this sink wants this event for this action (event type and rule filters). */
  accepts(type: string, action: ActionRecord): boolean;
  /** Sends one event; the id is the same on every retry. Resolves with what happened; rejects on failure (non-2xx too). */
  send(event: { id: string; payload: string }, signal: AbortSignal): Promise<string>;
}
