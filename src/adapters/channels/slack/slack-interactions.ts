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
import { APPROVE_ACTION, DENY_ACTION, DENY_CALLBACK, denyModal } from './slack-blocks.js';

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

  async function decide(user: string, channel: string | undefined, target: ButtonValue, verdict: Verdict, comment?: string): Promise<void> {
    try {
      const h = await human(user);
      const after = await deps.reviews.decide(h, { actionId: target.a, fingerprint: target.f, verdict, comment, via: 'slack' });
      deps.logger.info({ actionId: after.id, reviewer: h.id, verdict, status: after.status }, 'slack review recorded');
      await tell(channel, user, `Recorded: you ${verdict === 'approve' ? 'approved' : 'denied'} ${after.id}; it is now ${after.status}.`);
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
        if (actionId !== APPROVE_ACTION && actionId !== DENY_ACTION) return {};
        const channel = str(obj(p.channel)?.id) ?? str(obj(p.container)?.channel_id);
        const target = parseTarget(action?.value);
        if (!target) return { after: () => tell(channel, user, refusalText(new AppError('VALIDATION_FAILED', 'This button does not name an action'))) };
        if (actionId === APPROVE_ACTION) return { after: () => decide(user, channel, target, 'approve') };
        const triggerId = str(p.trigger_id);
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
        if (str(view?.callback_id) !== DENY_CALLBACK) return {};
        let meta: Obj | undefined;
        try {
          meta = obj(JSON.parse(str(view?.private_metadata) ?? ''));
        } catch {
          meta = undefined;
        }
        const target = parseTarget(JSON.stringify({ a: meta?.a, f: meta?.f }));
        const reason = str(obj(obj(obj(obj(view?.state)?.values)?.reason)?.reason)?.value)?.trim();
        if (!reason) return { body: { response_action: 'errors', errors: { reason: 'A reason is required to deny.' } } };
        if (!target) return { body: { response_action: 'errors', errors: { reason: 'This form does not name an action.' } } };
        return { after: () => decide(user, str(meta?.c), target, 'deny', reason.slice(0, 4000)) };
      }
      return {};
    },
  };
}
