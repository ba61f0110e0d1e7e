import { Activity } from '@microsoft/agents-activity';
import { ConnectorClient } from '@microsoft/agents-hosting';
import type { BotTokenSource } from './teams-token.js';

/** The Bot Connector calls Countersign makes, through the SDK's ConnectorClient. */
export interface TeamsConnector {
  send(serviceUrl: string, conversationId: string, activity: Record<string, unknown>): Promise<string>;
  update(serviceUrl: string, conversationId: string, activityId: string, activity: Record<string, unknown>): Promise<void>;
  reply(serviceUrl: string, conversationId: string, activityId: string, activity: Record<string, unknown>): Promise<void>;
  /** A member's profile (for the UPN / email when no explicit mapping exists). */
  member(serviceUrl: string, conversationId: string, userId: string): Promise<{ email?: string; userPrincipalName?: string }>;
}

/**
 * @microsoft/agents-hosting's ConnectorClient with a token from our token source: the
 * SDK's own MSAL provider discovers its authority over HTTPS from Microsoft's
 * endpoints, which cannot be pointed at a test double; the token endpoint here is a
 * plain configurable URL. Service URLs come from our config, never from inbound activities.
 */
export function createTeamsConnector(tokens: BotTokenSource): TeamsConnector {
  const client = async (serviceUrl: string) => ConnectorClient.createClientWithToken(serviceUrl, await tokens.token());
  return {
    async send(serviceUrl, conversationId, activity) {
      const r = await (await client(serviceUrl)).sendToConversation(conversationId, Activity.fromObject(activity));
      if (!r?.id) throw new Error('the connector returned no activity id');
      return r.id;
    },
    async update(serviceUrl, conversationId, activityId, activity) {
      await (await client(serviceUrl)).updateActivity(conversationId, activityId, Activity.fromObject({ ...activity, id: activityId }));
    },
    async reply(serviceUrl, conversationId, activityId, activity) {
      await (await client(serviceUrl)).replyToActivity(conversationId, activityId, Activity.fromObject({ ...activity, replyToId: activityId }));
    },
    async member(serviceUrl, conversationId, userId) {
      let m: Record<string, unknown>;
      try {
        m = (await (await client(serviceUrl)).getConversationMember(userId, conversationId)) as unknown as Record<string, unknown>;
      } catch (e) {
        // Not a member of that conversation: nobody we can name.
        if ((e as { status?: number }).status === 404) return {};
        throw e;
      }
      const out: { email?: string; userPrincipalName?: string } = {};
      if (typeof m?.email === 'string') out.email = m.email;
      if (typeof m?.userPrincipalName === 'string') out.userPrincipalName = m.userPrincipalName;
      return out;
    },
  };
}
