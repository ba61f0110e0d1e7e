import { Activity } from '@microsoft/agents-activity';
import { ConnectorClient, HttpClient, HttpError } from '@microsoft/agents-hosting';
import type { HttpRequestConfig, HttpResponse } from '@microsoft/agents-hosting';
import { VERSION } from '../../../version.js';
import { httpFetch } from '../http-fetch.js';
import type { BotTokenSource } from './teams-token.js';

/**
 * The SDK's HttpClient contract on keep-alive node:http (the SDK's own uses Node's
 * built-in fetch, several times the CPU per call, on the cores the gate runs on).
 */
class KeepAliveHttpClient extends HttpClient {
  override async request<T = unknown>(config: HttpRequestConfig): Promise<HttpResponse<T>> {
    const base = this.baseURL.replace(/\/+$/, '');
    let url = /^https?:\/\//.test(config.url) ? config.url : `${base}/${config.url.replace(/^\//, '')}`;
    const params = Object.entries(config.params ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
    if (params.length) url += `${url.includes('?') ? '&' : '?'}${new URLSearchParams(params).toString()}`;
    const headers = { ...this.defaultHeaders, ...config.headers };
    const res = await httpFetch(url, {
      method: config.method.toUpperCase(),
      headers,
      ...(config.data !== undefined && config.data !== null ? { body: typeof config.data === 'string' ? config.data : JSON.stringify(config.data) } : {}),
      ...(config.signal ? { signal: config.signal } : {}),
    });
    const text = await res.text();
    let data: unknown = text;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    const response: HttpResponse<T> = { data: data as T, status: res.status, statusText: res.statusText, headers: res.headers, config };
    if (!res.ok) throw new HttpError(`Request failed with status ${res.status}`, response, config);
    return response;
  }
}

/** The SDK's ConnectorClient (REST paths, activity wire format, errors) on the keep-alive transport. */
class SdkConnectorClient extends ConnectorClient {
  static forToken(serviceUrl: string, token: string): ConnectorClient {
    const http = new KeepAliveHttpClient({
      baseURL: serviceUrl,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'User-Agent': `countersign/${VERSION}`, Authorization: `Bearer ${token}` },
    });
    return new SdkConnectorClient(http);
  }
}

/** The Bot Connector calls Countersign makes, through the SDK's ConnectorClient. */
export interface TeamsConnector {
  send(serviceUrl: string, conversationId: string, activity: Record<string, unknown>): Promise<string>;
  update(serviceUrl: string, conversationId: string, activityId: string, activity: Record<string, unknown>): Promise<void>;
  reply(serviceUrl: string, conversationId: string, activityId: string, activity: Record<string, unknown>): Promise<void>;
  /**
   * The bot's personal (1:1) conversation with a user, by Entra object id: created, or
   * the existing one returned (POST /v3/conversations, as for proactive messages; Teams
   * takes the Entra object id in personal scope, once the app is installed for the user).
   */
  personal(serviceUrl: string, p: { botId: string; userAadObjectId: string; tenantId: string }): Promise<string>;
  /** A member's profile (for the UPN / email when no explicit mapping exists). */
  member(serviceUrl: string, conversationId: string, userId: string): Promise<{ email?: string; userPrincipalName?: string }>;
}

/**
 * @microsoft/agents-hosting's ConnectorClient with a token from our token source: the
 * SDK's own MSAL provider discovers its authority over HTTPS from Microsoft's
 * endpoints, which cannot be pointed at a test double; the token endpoint here is a
 * plain configurable URL. Service URLs come from our config, never from inbound
 * activities. One client per service URL and token.
 */
export function createTeamsConnector(tokens: BotTokenSource): TeamsConnector {
  const clients = new Map<string, { token: string; client: ConnectorClient }>();
  const client = async (serviceUrl: string) => {
    const token = await tokens.token();
    let c = clients.get(serviceUrl);
    if (!c || c.token !== token) {
      c = { token, client: SdkConnectorClient.forToken(serviceUrl, token) };
      clients.set(serviceUrl, c);
    }
    return c.client;
  };
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
    async personal(serviceUrl, p) {
      const r = await (await client(serviceUrl)).createConversation({
        isGroup: false,
        bot: { id: `28:${p.botId}`, name: 'Countersign' },
        members: [{ id: p.userAadObjectId, name: '' }],
        tenantId: p.tenantId,
        channelData: { tenant: { id: p.tenantId } },
      } as unknown as Parameters<ConnectorClient['createConversation']>[0]);
      if (!r?.id) throw new Error('the connector returned no conversation id');
      return r.id;
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
