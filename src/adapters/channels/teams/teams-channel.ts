import { reviewReply } from '../../../domain/review-card.js';
import type { Channel } from '../../../ports/channel.js';
import { abortable } from '../../../services/abortable.js';
import { ADAPTIVE_CARD, teamsCard } from './teams-card.js';
import type { TeamsConnector } from './teams-connector.js';
import type { ReviewCard } from '../../../domain/review-card.js';

export function cardActivity(card: ReviewCard): Record<string, unknown> {
  return { type: 'message', summary: `${card.statusLine}: ${card.title}`.slice(0, 250), attachments: [{ contentType: ADAPTIVE_CARD, content: teamsCard(card) }] };
}

/**
 * Microsoft Teams as a Channel: the card goes to the configured conversation; updates
 * replace the activity for everyone (PUT .../activities/{id}); reviews are replies in
 * its thread. References are `{serviceUrl, conversationId, activityId}`.
 */
export function createTeamsChannel(opts: { connector: TeamsConnector; serviceUrl: string; conversationId: string }): Channel {
  const { connector } = opts;
  return {
    name: 'teams',
    targets: () => [`conversation:${opts.conversationId}`],
    async post(target, card, signal) {
      const id = await abortable(connector.send(opts.serviceUrl, opts.conversationId, cardActivity(card)), signal);
      return { target, ref: { serviceUrl: opts.serviceUrl, conversationId: opts.conversationId, activityId: id } };
    },
    async update(m, card, signal) {
      await abortable(connector.update(m.ref.serviceUrl!, m.ref.conversationId!, m.ref.activityId!, cardActivity(card)), signal);
    },
    async reply(m, review, action, signal) {
      await abortable(connector.reply(m.ref.serviceUrl!, m.ref.conversationId!, m.ref.activityId!, { type: 'message', textFormat: 'plain', text: reviewReply(review, action) }), signal);
    },
  };
}
