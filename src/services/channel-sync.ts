import type { ActionRecord } from '../domain/action-record.js';
import { reviewCard } from '../domain/review-card.js';
import type { ChatMessage } from '../ports/channel-store.js';
import type { Channel } from '../ports/channel.js';

export interface SyncResult {
  /** Every message of the action in this channel, with what each now shows. */
  messages: ChatMessage[];
  /** What was done, for the delivery record. */
  detail: string;
  /** The first failure, if any step failed (the others still ran). */
  error?: unknown;
}

/**
 * Brings one channel's messages for an action to the action's current state:
 * posts the request to targets that have none yet (while it can be reviewed), updates
 * every message that shows an older version, and replies in thread for each review not
 * yet replied. Targets are handled with Promise.allSettled: one failing never stops the
 * others, and what succeeded is kept (the caller stores it with the outcome).
 */
export async function syncChat(channel: Channel, action: ActionRecord, stored: readonly ChatMessage[], publicUrl: string, signal: AbortSignal, consoleLinks = false): Promise<SyncResult> {
  const card = reviewCard(action, publicUrl, { consoleLinks });
  const reviews = action.review?.reviews ?? [];
  const byTarget = new Map(stored.map((m) => [m.target, { ...m }]));
  const counts = { posted: 0, updated: 0, replied: 0 };
  const errors: unknown[] = [];

  const fresh = action.status === 'pending' ? channel.targets(action).filter((t) => !byTarget.has(t)) : [];
  const steps: Array<Promise<void>> = [];
  for (const target of fresh) {
    steps.push(
      channel.post(target, card, signal).then((m) => {
        // A new message already shows every review so far: nothing to reply for them.
        byTarget.set(target, { target, ref: m.ref, renderedVersion: action.version, replied: reviews.length });
        counts.posted++;
      }),
    );
  }
  for (const m of byTarget.values()) {
    if (fresh.includes(m.target)) continue;
    steps.push(
      (async () => {
        const msg = { target: m.target, ref: m.ref };
        if (m.renderedVersion < action.version) {
          await channel.update(msg, card, signal);
          m.renderedVersion = action.version;
          counts.updated++;
        }
        while (m.replied < reviews.length) {
          await channel.reply(msg, reviews[m.replied]!, action, signal);
          m.replied++;
          counts.replied++;
        }
      })(),
    );
  }
  for (const r of await Promise.allSettled(steps)) if (r.status === 'rejected') errors.push(r.reason);
  const detail = `posted ${counts.posted}, updated ${counts.updated}, replied ${counts.replied}`;
  return { messages: [...byTarget.values()], detail, ...(errors.length ? { error: errors[0] } : {}) };
}
