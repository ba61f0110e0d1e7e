import type { Logger } from 'pino';
import type { ActionRecord } from '../../../domain/action-record.js';
import { AppError } from '../../../domain/errors.js';
import type { Verdict } from '../../../domain/review.js';
import type { ChatReviews, DirectoryHuman, HumanDirectory } from '../../../services/chat-review.js';
import { refusalText } from '../../../services/chat-review.js';
import type { ChatIdentityGate } from '../../../services/chat-links.js';
import type { Obj } from '../chat-payload.js';
import { actionTarget, obj, str } from '../chat-payload.js';
import type { SlackApi } from './slack-api.js';
import type { ButtonValue } from './slack-blocks.js';
import { APPROVE_ACTION, APPROVE_GRANT_ACTION, DENY_ACTION, DENY_CALLBACK, GRANT_CALLBACK, denyModal, grantModal } from './slack-blocks.js';
import { reviewCard } from '../../../domain/review-card.js';
import type { GrantAsk } from '../../../domain/grant.js';
import { parseGrantAsk } from '../../../domain/grant-offer.js';

/** What to answer Slack at once (it waits 3 s at most), and the work to do after. */
export interface SlackAck {
  body?: Record<string, unknown>;
  after?: () => Promise<void>;
}

export interface SlackInteractions {
  /**
   * Handles one interaction payload whose origin was already verified (signature, or the
   * Socket Mode connection). `key` identifies the interaction: a replay is acknowledged
   * and changes nothing. Throws SLACK_TEAM_MISMATCH or VALIDATION_FAILED.
   */
  receive(payload: unknown, key: string): Promise<SlackAck>;
}

const EMAIL_CACHE_MS = 5 * 60_000;

function parseTarget(v: unknown): ButtonValue | undefined {
  try {
    const o = obj(typeof v === 'string' ? JSON.parse(v) : undefined);
    const t = actionTarget(o?.a, o?.f);
    return t ? { a: t.actionId, f: t.fingerprint } : undefined;
  } catch {
    return undefined;
  }
}

export function createSlackInteractions(deps: {
  api: SlackApi;
  teamId: string;
  directory: HumanDirectory;
  /** Linked chat accounts (through a console sign-in) and `channels.requireLinked`. */
  identities?: ChatIdentityGate;
  reviews: ChatReviews;
  remember(key: string): Promise<boolean>;
  /** What the action does, in one line (shown in the deny modal). */
  describe(actionId: string): Promise<string | undefined>;
  /** The action as stored (the Approve + grant modal shows the grant's scope and bounds). */
  getAction(actionId: string): Promise<ActionRecord | undefined>;
  logger: Logger;
  now(): number;
}): SlackInteractions {
  const { api } = deps;
  const emails = new Map<string, { email: string | undefined; at: number }>();

  async function human(userId: string): Promise<DirectoryHuman> {
    return deps.identities ? deps.identities.human('slack', userId, () => mapped(userId)) : mapped(userId);
  }

  async function mapped(userId: string): Promise<DirectoryHuman> {
    if (deps.directory.hasExplicit({ slackUserId: userId })) return deps.directory.resolve({ slackUserId: userId });
    let cached = emails.get(userId);
    if (!cached || deps.now() - cached.at > EMAIL_CACHE_MS) {
      cached = { email: await api.userEmail(userId), at: deps.now() };
      emails.set(userId, cached);
    }
    return deps.directory.resolve({ slackUserId: userId, email: cached.email });
  }

  async function tell(channel: string | undefined, user: string, text: string): Promise<void> {
    if (!channel) return;
    try {
      await api.postEphemeral({ channel, user, text });
    } catch (e) {
      deps.logger.warn({ err: e }, 'slack: could not post an ephemeral message');
    }
  }

  async function decide(user: string, channel: string | undefined, target: ButtonValue, verdict: Verdict, comment?: string, grant?: GrantAsk): Promise<void> {
    try {
      const h = await human(user);
      const after = await deps.reviews.decide(h, { actionId: target.a, fingerprint: target.f, verdict, comment, via: 'slack', ...(grant ? { grant } : {}) });
      deps.logger.info({ actionId: after.id, reviewer: h.id, verdict, status: after.status, grant: after.grant?.id }, 'slack review recorded');
      // With quorum not met yet, the grant waits for the other approvals that ask for one (grant.ts).
      const granted = after.grant ? ` The approval also created standing grant ${after.grant.id}: ${after.grant.text}.` : grant ? ' Your grant is recorded with your approval; it is created once enough approvals ask for one.' : '';
      await tell(channel, user, `Recorded: you ${verdict === 'approve' ? 'approved' : 'denied'} ${after.id}; it is now ${after.status}.${granted}`);
    } catch (e) {
      deps.logger.info({ actionId: target.a, slackUser: user, verdict, code: (e as AppError).code }, 'slack review refused');
      await tell(channel, user, refusalText(e));
    }
  }

  return {
    async receive(payload, key) {
      const p = obj(payload);
      const type = str(p?.type);
      if (!p || !type) throw new AppError('VALIDATION_FAILED', 'payload: not a Slack interaction');
      if (str(obj(p.team)?.id) !== deps.teamId) throw new AppError('SLACK_TEAM_MISMATCH');
      const user = str(obj(p.user)?.id);
      if (!user) throw new AppError('VALIDATION_FAILED', 'payload.user.id: missing');
      if (!(await deps.remember(`slack:${key}`))) {
        deps.logger.warn({ slackUser: user, type }, 'slack: replayed interaction ignored');
        return {};
      }
      if (type === 'block_actions') {
        const action = obj(Array.isArray(p.actions) ? p.actions[0] : undefined);
        const actionId = str(action?.action_id);
        if (actionId !== APPROVE_ACTION && actionId !== DENY_ACTION && actionId !== APPROVE_GRANT_ACTION) return {};
        const channel = str(obj(p.channel)?.id) ?? str(obj(p.container)?.channel_id);
        const target = parseTarget(action?.value);
        if (!target) return { after: () => tell(channel, user, refusalText(new AppError('VALIDATION_FAILED', 'This button does not name an action'))) };
        if (actionId === APPROVE_ACTION) return { after: () => decide(user, channel, target, 'approve') };
        const triggerId = str(p.trigger_id);
        if (actionId === APPROVE_GRANT_ACTION) {
          return {
            after: async () => {
              try {
                await human(user);
              } catch (e) {
                return tell(channel, user, refusalText(e));
              }
              const a = await deps.getAction(target.a);
              if (!a || a.fingerprint !== target.f) return tell(channel, user, refusalText(new AppError('FINGERPRINT_MISMATCH', 'The message shows another version of this action: nothing was recorded')));
              // The scope and bounds as they are now, from the stored action, never from the button.
              const card = reviewCard(a, '');
              if (!card.grantOffer) return tell(channel, user, refusalText(new AppError('GRANT_NOT_ALLOWED', 'The policy allows no grant on this action (any more)')));
              if (!triggerId) return;
              await api.openView(triggerId, grantModal({ ...card, grantOffer: card.grantOffer }, { channel: channel ?? '' }));
            },
          };
        }
        return {
          after: async () => {
            // Refuse unknown users at once, before they type a reason.
            try {
              await human(user);
            } catch (e) {
              return tell(channel, user, refusalText(e));
            }
            if (!triggerId) return;
            const title = (await deps.describe(target.a).catch(() => undefined)) ?? target.a;
            await api.openView(triggerId, denyModal({ actionId: target.a, fingerprint: target.f, title }, { channel: channel ?? '' }));
          },
        };
      }
      if (type === 'view_submission') {
        const view = obj(p.view);
        const callback = str(view?.callback_id);
        if (callback !== DENY_CALLBACK && callback !== GRANT_CALLBACK) return {};
        let meta: Obj | undefined;
        try {
          meta = obj(JSON.parse(str(view?.private_metadata) ?? ''));
        } catch {
          meta = undefined;
        }
        const target = parseTarget(JSON.stringify({ a: meta?.a, f: meta?.f }));
        if (callback === GRANT_CALLBACK) {
          const values = obj(obj(view?.state)?.values);
          let ask: GrantAsk;
          try {
            ask = parseGrantAsk(str(obj(obj(values?.ttl)?.ttl)?.value), str(obj(obj(values?.uses)?.uses)?.value));
          } catch (e) {
            const msg = (e as Error).message;
            return { body: { response_action: 'errors', errors: msg.includes('uses') ? { uses: msg } : { ttl: msg } } };
          }
          if (!target) return { body: { response_action: 'errors', errors: { ttl: 'This form does not name an action.' } } };
          return { after: () => decide(user, str(meta?.c), target, 'approve', undefined, ask) };
        }
        const reason = str(obj(obj(obj(obj(view?.state)?.values)?.reason)?.reason)?.value)?.trim();
        if (!reason) return { body: { response_action: 'errors', errors: { reason: 'A reason is required to deny.' } } };
        if (!target) return { body: { response_action: 'errors', errors: { reason: 'This form does not name an action.' } } };
        return { after: () => decide(user, str(meta?.c), target, 'deny', reason.slice(0, 4000)) };
      }
      return {};
    },
  };
}
