import type { ActionRecord } from '../../../domain/action-record.js';
import { reviewReply } from '../../../domain/review-card.js';
import type { Channel } from '../../../ports/channel.js';
import type { DirectoryHuman } from '../../../services/chat-review.js';
import { abortable } from '../../../services/abortable.js';
import { eligibleHumans } from '../chat-targets.js';
import { escapeMrkdwn, slackMessage } from './slack-blocks.js';
import type { SlackApi } from './slack-api.js';

/**
 * Slack as a Channel: review requests go to the configured channel and, with
 * `notifyApprovers`, to each eligible approver with a `slackUserId` (a direct message
 * from the app). References are `{channel, ts}` as chat.postMessage returns them.
 */
export function createSlackChannel(opts: { api: SlackApi; channel?: string | undefined; notifyApprovers: boolean; humans: readonly DirectoryHuman[] }): Channel {
  const { api } = opts;
  return {
    name: 'slack',
    targets(a: ActionRecord) {
      const out = opts.channel ? [opts.channel] : [];
      if (opts.notifyApprovers) for (const h of eligibleHumans(a, opts.humans)) if (h.slackUserId) out.push(h.slackUserId);
      return out;
    },
    async post(target, card, signal) {
      const m = slackMessage(card);
      const r = await abortable(api.postMessage({ channel: target, text: m.text, blocks: m.blocks }), signal);
      return { target, ref: { channel: r.channel, ts: r.ts } };
    },
    async update(message, card, signal) {
      const m = slackMessage(card);
      await abortable(api.update({ channel: message.ref.channel!, ts: message.ref.ts!, text: m.text, blocks: m.blocks }), signal);
    },
    async reply(message, review, action, signal) {
      await abortable(api.postMessage({ channel: message.ref.channel!, thread_ts: message.ref.ts!, text: escapeMrkdwn(reviewReply(review, action)) }), signal);
    },
  };
}
