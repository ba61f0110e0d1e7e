import type { ActionRecord } from '../../../domain/action-record.js';
import { reviewReply } from '../../../domain/review-card.js';
import type { DirectoryHuman } from '../../../services/chat-review.js';
import { eligibleHumans } from '../chat-targets.js';
import type { Channel } from '../../../ports/channel.js';
import { abortable } from '../../../services/abortable.js';
import { ADAPTIVE_CARD, teamsCard } from './teams-card.js';
import type { TeamsConnector } from './teams-connector.js';
import type { ReviewCard } from '../../../domain/review-card.js';

export function cardActivity(card: ReviewCard): Record<string, unknown> {
  return { type: 'message', summary: `${card.statusLine}: ${card.title}`.slice(0, 250), attachments: [{ contentType: ADAPTIVE_CARD, content: teamsCard(card) }] };
}

/**
 * Microsoft Teams as a Channel: the card goes to the configured conversation and, with
 * `notifyApprovers`, to each eligible approver with a `teamsAadObjectId`, in the bot's
 * personal chat with them; updates replace the activity for everyone (PUT
 * .../activities/{id}); reviews are replies in its thread. References are
 * `{serviceUrl, conversationId, activityId}`.
 */
export function createTeamsChannel(opts: {
  connector: TeamsConnector;
  serviceUrl: string;
  conversationId?: string | undefined;
  notifyApprovers: boolean;
  humans: readonly DirectoryHuman[];
  appId: string;
  tenantId: string;
}): Channel {
  const { connector } = opts;
  const conversationOf = async (target: string): Promise<string> => {
    if (target.startsWith(CONVERSATION)) return target.slice(CONVERSATION.length);
    if (target.startsWith(USER)) return connector.personal(opts.serviceUrl, { botId: opts.appId, userAadObjectId: target.slice(USER.length), tenantId: opts.tenantId });
    throw new Error(`not a Teams target: ${target}`);
  };
  return {
    name: 'teams',
    targets(a: ActionRecord) {
      const out = opts.conversationId ? [`${CONVERSATION}${opts.conversationId}`] : [];
      if (opts.notifyApprovers) for (const h of eligibleHumans(a, opts.humans)) if (h.teamsAadObjectId) out.push(`${USER}${h.teamsAadObjectId}`);
      return out;
    },
    async post(target, card, signal) {
      const conversationId = await abortable(conversationOf(target), signal);
      const id = await abortable(connector.send(opts.serviceUrl, conversationId, cardActivity(card)), signal);
      return { target, ref: { serviceUrl: opts.serviceUrl, conversationId, activityId: id } };
    },
    async update(m, card, signal) {
      await abortable(connector.update(m.ref.serviceUrl!, m.ref.conversationId!, m.ref.activityId!, cardActivity(card)), signal);
    },
    async reply(m, review, action, signal) {
      await abortable(connector.reply(m.ref.serviceUrl!, m.ref.conversationId!, m.ref.activityId!, { type: 'message', textFormat: 'plain', text: reviewReply(review, action) }), signal);
    },
  };
}

const CONVERSATION = 'conversation:';
const USER = 'user:';
