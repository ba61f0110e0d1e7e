import type { ActionRecord } from '../domain/action-record.js';
import { eventBody, eventId, feedEffect } from '../domain/notify-feed.js';
import type { ChannelStore, NewDelivery } from '../ports/channel-store.js';
import type { EventSink } from '../ports/channel.js';
import type { Store } from '../ports/store.js';

/** The notification feed's name in the store (its cursor). */
export const FEED = 'channels';
const FEED_BATCH = 500;
/** Entries planned per event-loop turn: each costs an action read and a JSON body per sink. */
const PLAN_SLICE = 16;

export interface FeedPlan {
  feed: string;
  from: number;
  to: number;
  deliveries: NewDelivery[];
  /** A full batch: more entries may follow at once. */
  full: boolean;
}

/**
 * Reads the audit log from the feed's position and says what its next entries make: a
 * chat sync per channel for each reviewed action that changed, and a webhook event per
 * sink that wants it. Undefined when there is nothing new. Writes nothing.
 */
export async function planFeed(d: {
  store: Pick<Store, 'readAudit' | 'auditSize' | 'getAction'>;
  channels: Pick<ChannelStore, 'feedPosition' | 'startFeed'>;
  chats: readonly string[];
  sinks: readonly EventSink[];
  publicUrl: string;
  /** Events also carry the console's detail link (`consoleLink`). */
  consoleLinks?: boolean;
  /** Entries read at most (500 by default). */
  batch?: number;
}): Promise<FeedPlan | undefined> {
  const batch = d.batch ?? FEED_BATCH;
  const from = (await d.channels.feedPosition(FEED)) ?? (await d.channels.startFeed(FEED, await d.store.auditSize()));
  const entries = await d.store.readAudit(from, from + batch);
  if (entries.length === 0) return undefined;
  const actions = new Map<string, ActionRecord | undefined>();
  const out: NewDelivery[] = [];
  const syncs = new Set<string>();
  for (const [i, e] of entries.entries()) {
    // Long reads are cut into slices, so that the gate's requests are served in between.
    if (i > 0 && i % PLAN_SLICE === 0) await new Promise((r) => setImmediate(r));
    const effect = feedEffect(e);
    if (!effect) continue;
    if (!actions.has(effect.actionId)) actions.set(effect.actionId, await d.store.getAction(effect.actionId));
    const a = actions.get(effect.actionId);
    if (!a) continue;
    // Only actions that needed review have chat messages.
    if (effect.sync && a.review) for (const c of d.chats) syncs.add(`${c}\n${a.id}`);
    for (const type of effect.events) {
      // One body and id per event, whatever the number of sinks that want it.
      let body: { key: string; payload: string } | undefined;
      for (const s of d.sinks) {
        if (!s.accepts(type, a)) continue;
        body ??= { key: eventId(a.id, e.seq, type), payload: JSON.stringify(eventBody(type, e, a, d.publicUrl, d.consoleLinks)) };
        out.push({ channel: s.name, kind: 'event', actionId: a.id, eventKey: body.key, eventType: type, payload: body.payload });
      }
    }
  }
  for (const key of syncs) {
    const [channel, actionId] = key.split('\n') as [string, string];
    out.push({ channel, kind: 'sync', actionId });
  }
  return { feed: FEED, from, to: entries[entries.length - 1]!.seq + 1, deliveries: out, full: entries.length === batch };
}
