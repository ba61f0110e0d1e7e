import { Activity } from '@microsoft/agents-activity';
import type { Logger } from 'pino';
import type { ActionRecord } from '../../../domain/action-record.js';
import { AppError, isAppError } from '../../../domain/errors.js';
import { reviewCard } from '../../../domain/review-card.js';
import type { ChatReviews, DirectoryHuman, HumanDirectory } from '../../../services/chat-review.js';
import { refusalText } from '../../../services/chat-review.js';
import type { ChatIdentityGate } from '../../../services/chat-links.js';
import { ADAPTIVE_CARD, APPROVE_GRANT_VERB, APPROVE_VERB, DENY_VERB, REFRESH_VERB, teamsCard } from './teams-card.js';
import { parseGrantAsk } from '../../../domain/grant-offer.js';
import { actionTarget, obj, str } from '../chat-payload.js';
import type { TeamsConnector } from './teams-connector.js';
import type { BotFrameworkVerifier } from './teams-jwt.js';

export interface TeamsReply {
  status: number;
  body?: Record<string, unknown>;
}

export interface TeamsActivities {
  /** One inbound activity: verified (token, tenant), then handled. Throws AppError to refuse. */
  handle(authorization: string | undefined, body: unknown): Promise<TeamsReply>;
}


const message = (text: string): TeamsReply => ({ status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: text } });

export function createTeamsActivities(deps: {
  verifier: BotFrameworkVerifier;
  tenants: ReadonlySet<string>;
  directory: HumanDirectory;
  /** Linked chat accounts (through a console sign-in) and `channels.requireLinked`. */
  identities?: ChatIdentityGate;
  reviews: ChatReviews;
  getAction(id: string): Promise<ActionRecord | undefined>;
  connector: TeamsConnector;
  /** The configured service URL: the only one outbound calls go to. */
  serviceUrl: string;
  publicUrl(): string;
  /** Cards link to the web console's detail page. */
  consoleLinks?: boolean;
  remember(key: string): Promise<boolean>;
  logger: Logger;
}): TeamsActivities {
  const cardReply = (a: ActionRecord): TeamsReply => ({ status: 200, body: { statusCode: 200, type: ADAPTIVE_CARD, value: teamsCard(reviewCard(a, deps.publicUrl(), { consoleLinks: deps.consoleLinks })) } });

  async function human(activity: Activity): Promise<DirectoryHuman> {
    const aad = str(activity.from?.aadObjectId);
    if (!aad) throw new AppError('CHAT_USER_UNKNOWN', 'Teams did not say who you are (no aadObjectId)');
    return deps.identities ? deps.identities.human('teams', aad.toLowerCase(), () => mapped(activity, aad)) : mapped(activity, aad);
  }

  async function mapped(activity: Activity, aad: string): Promise<DirectoryHuman> {
    if (deps.directory.hasExplicit({ teamsAadObjectId: aad })) return deps.directory.resolve({ teamsAadObjectId: aad });
    const fromId = str(activity.from?.id);
    const conversationId = str(activity.conversation?.id);
    const m = fromId && conversationId ? await deps.connector.member(deps.serviceUrl, conversationId, fromId) : {};
    // The UPN first, then the email when it differs: whichever names a configured human (never both ambiguously).
    const names = [...new Set([m.userPrincipalName, m.email].filter((x): x is string => !!x).map((x) => x.toLowerCase()))];
    for (const [i, email] of names.entries()) {
      try {
        return deps.directory.resolve({ teamsAadObjectId: aad, email });
      } catch (e) {
        if (!(isAppError(e) && e.code === 'CHAT_USER_UNKNOWN') || i === names.length - 1) throw e;
      }
    }
    return deps.directory.resolve({ teamsAadObjectId: aad });
  }

  async function execute(activity: Activity): Promise<TeamsReply> {
    const action = obj(obj(activity.value)?.action);
    const verb = str(action?.verb);
    const data = obj(action?.data);
    const target = actionTarget(data?.actionId, data?.fingerprint);
    if (!target) return message(refusalText(new AppError('VALIDATION_FAILED', 'This card does not name an action')));
    const { actionId, fingerprint } = target;
    if (!str(activity.id)) throw new AppError('VALIDATION_FAILED', 'body.id: an invoke activity has an id');
    const key = `teams:${str(activity.conversation?.id) ?? ''}:${str(activity.id)}`;
    if (!(await deps.remember(key))) {
      deps.logger.warn({ actionId }, 'teams: replayed invoke ignored');
      const a = await deps.getAction(actionId);
      return a ? cardReply(a) : message(refusalText(new AppError('NOT_FOUND')));
    }
    if (verb === REFRESH_VERB) {
      const a = await deps.getAction(actionId);
      return a ? cardReply(a) : message(refusalText(new AppError('NOT_FOUND')));
    }
    if (verb !== APPROVE_VERB && verb !== DENY_VERB && verb !== APPROVE_GRANT_VERB) return message(refusalText(new AppError('VALIDATION_FAILED', `Unknown verb ${String(verb)}`)));
    const verdict = verb === DENY_VERB ? 'deny' : 'approve';
    const reason = str(data?.reason)?.trim();
    try {
      const h = await human(activity);
      if (verdict === 'deny' && !reason) throw new AppError('VALIDATION_FAILED', 'Type a reason, then Deny');
      const grant = verb === APPROVE_GRANT_VERB ? parseGrantAsk(data?.grantTtl, data?.grantUses) : undefined;
      const after = await deps.reviews.decide(h, { actionId, fingerprint, verdict, comment: reason?.slice(0, 4000), via: 'teams', ...(grant ? { grant } : {}) });
      deps.logger.info({ actionId, reviewer: h.id, verdict, status: after.status, grant: after.grant?.id }, 'teams review recorded');
      return cardReply(after);
    } catch (e) {
      deps.logger.info({ actionId, verdict, code: (e as AppError).code }, 'teams review refused');
      return message(refusalText(e));
    }
  }

  return {
    async handle(authorization, body) {
      const raw = obj(body);
      // The token first: nothing about the body is looked at for an unauthenticated caller.
      await deps.verifier.verify(authorization, raw ?? {});
      let activity: Activity;
      try {
        activity = Activity.fromObject(raw ?? {});
      } catch {
        throw new AppError('VALIDATION_FAILED', 'body: not a Bot Framework activity');
      }
      const tenant = str(obj(obj(activity.channelData)?.tenant)?.id) ?? str(activity.conversation?.tenantId);
      if (!tenant || !deps.tenants.has(tenant.toLowerCase())) throw new AppError('TEAMS_TENANT_NOT_ALLOWED');
      if (activity.type === 'invoke' && activity.name === 'adaptiveCard/action') return execute(activity);
      if (activity.type === 'conversationUpdate') {
        // How an operator learns the ids to configure: install the app in the channel and read the log.
        deps.logger.info({ conversationId: activity.conversation?.id, serviceUrl: activity.serviceUrl, tenant }, 'teams: conversation update');
      }
      return { status: 200 };
    },
  };
}
