import { LogLevel, WebClient } from '@slack/web-api';
import type { Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from 'pino';
import { httpFetch } from '../http-fetch.js';

/** The few Web API methods Countersign calls (chat:write, users:read, users:read.email, im:write). */
export interface SlackApi {
  postMessage(args: { channel: string; text: string; blocks?: unknown[]; thread_ts?: string }): Promise<{ channel: string; ts: string }>;
  update(args: { channel: string; ts: string; text: string; blocks: unknown[] }): Promise<void>;
  postEphemeral(args: { channel: string; user: string; text: string }): Promise<void>;
  /** The user's email, if Slack returns one (needs users:read.email); undefined for bots and deleted users. */
  userEmail(user: string): Promise<string | undefined>;
  openView(triggerId: string, view: Record<string, unknown>): Promise<void>;
}

function slackLogger(log: Logger): SlackLogger {
  let level = LogLevel.WARN;
  return {
    debug: (...m: unknown[]) => log.debug({ slack: m.map(String).join(' ') }, 'slack sdk'),
    info: (...m: unknown[]) => log.debug({ slack: m.map(String).join(' ') }, 'slack sdk'),
    warn: (...m: unknown[]) => log.warn({ slack: m.map(String).join(' ') }, 'slack sdk'),
    error: (...m: unknown[]) => log.warn({ slack: m.map(String).join(' ') }, 'slack sdk'),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => {},
  };
}

/**
 * The official SDK, pointed at the configured API URL. Its own retries are kept short
 * (rate limits honour Retry-After): the delivery queue retries with backoff and records
 * every attempt, so a down Slack never holds a delivery for long.
 */
export function createSlackApi(opts: { token: string; apiUrl: string; timeoutMs: number; logger: Logger }): { api: SlackApi; client: WebClient } {
  const client = new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl.endsWith('/') ? opts.apiUrl : `${opts.apiUrl}/`,
    logger: slackLogger(opts.logger),
    logLevel: LogLevel.WARN,
    timeout: opts.timeoutMs,
    retryConfig: { retries: 1, factor: 2, minTimeout: 200, maxTimeout: 1000 },
    rejectRateLimitedCalls: true,
    fetch: httpFetch,
  });
  const api: SlackApi = {
    async postMessage(a) {
      const r = await client.chat.postMessage({ ...a, unfurl_links: false, unfurl_media: false });
      return { channel: String(r.channel), ts: String(r.ts) };
    },
    async update(a) {
      await client.chat.update(a);
    },
    async postEphemeral(a) {
      await client.chat.postEphemeral(a);
    },
    async userEmail(user) {
      const r = await client.users.info({ user });
      const u = r.user;
      if (!u || u.deleted || u.is_bot) return undefined;
      return u.profile?.email ?? undefined;
    },
    async openView(triggerId, view) {
      await client.views.open({ trigger_id: triggerId, view: view as unknown as Parameters<WebClient['views']['open']>[0]['view'] });
    },
  };
  return { api, client };
}
