import { httpFetch } from '../http-fetch.js';

/**
 * Outbound tokens for the Bot Connector: OAuth 2.0 client credentials against the
 * configured token endpoint (Microsoft's by default). Cached until five minutes before
 * expiry; concurrent callers share one request.
 */
export interface BotTokenSource {
  token(signal?: AbortSignal): Promise<string>;
}

export function createBotTokenSource(opts: { tokenUrl: string; appId: string; appPassword: string; scope: string; now?: () => number; fetch?: typeof fetch }): BotTokenSource {
  const doFetch = opts.fetch ?? httpFetch;
  const now = opts.now ?? Date.now;
  let cached: { token: string; until: number } | undefined;
  let pending: Promise<{ token: string; until: number }> | undefined;

  async function fetchToken(): Promise<{ token: string; until: number }> {
    const res = await doFetch(opts.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: opts.appId, client_secret: opts.appPassword, scope: opts.scope }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    // The body of a refusal is not echoed: it may repeat what was sent.
    if (!res.ok) throw new Error(`token endpoint answered HTTP ${res.status}`);
    const body = (await res.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string' || body.access_token.length === 0) throw new Error('token endpoint returned no access_token');
    const seconds = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600);
    return { token: body.access_token, until: now() + Math.max(60, (Number.isFinite(seconds) ? seconds : 3600) - 300) * 1000 };
  }

  return {
    async token() {
      if (cached && cached.until > now()) return cached.token;
      pending ??= fetchToken().finally(() => (pending = undefined));
      cached = await pending;
      return cached.token;
    },
  };
}
