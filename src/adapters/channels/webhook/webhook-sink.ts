import type { ActionRecord } from '../../../domain/action-record.js';
import type { EventSink } from '../../../ports/channel.js';
import { VERSION } from '../../../version.js';
import { postBody } from '../http-fetch.js';
import { signWebhook, webhookKey } from './webhook-sign.js';

/**
 * An outgoing webhook: POSTs the event's fixed body with `webhook-id` (the same on
 * every retry), a fresh `webhook-timestamp` and its `webhook-signature`. Any 2xx is
 * delivered; anything else (a redirect included: it is not followed) is a failure the
 * queue retries with backoff.
 */
export function createWebhookSink(opts: { name: string; url: string; secret: string; events: readonly string[]; rules?: readonly string[] | undefined; now?: () => number; post?: typeof postBody }): EventSink {
  const key = webhookKey(opts.secret);
  const events = new Set(opts.events);
  const rules = opts.rules ? new Set(opts.rules) : undefined;
  const post = opts.post ?? postBody;
  const now = opts.now ?? Date.now;
  return {
    name: `webhook:${opts.name}`,
    accepts(type: string, a: ActionRecord) {
      return events.has(type) && (!rules || a.decision.rules.some((r) => rules.has(r)));
    },
    async send(event, signal) {
      const ts = Math.floor(now() / 1000);
      const headers = {
        'content-type': 'application/json',
        'user-agent': `countersign/${VERSION}`,
        'webhook-id': event.id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signWebhook(key, event.id, ts, event.payload),
      };
      const status = await post(opts.url, headers, event.payload, signal);
      if (status < 200 || status > 299) throw Object.assign(new Error(`HTTP ${status}`), { code: `HTTP_${status}` });
      return `HTTP ${status}`;
    },
  };
}
