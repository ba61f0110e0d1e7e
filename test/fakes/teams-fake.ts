import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { JWK } from 'jose';
import { json, startHttpFake } from './http-fake.js';

/**
 * A fake of the Bot Framework services a Teams bot talks to, built from their
 * documentation (learn.microsoft.com, "Authentication with the Bot Connector API"):
 * - OpenID metadata (`/v1/.well-known/openidconfiguration`) and its JWKS, whose keys list
 *   the channels they are endorsed for;
 * - the token endpoint (`/botframework.com/oauth2/v2.0/token`, client credentials);
 * - the Bot Connector (`/v3/conversations/{id}/activities[/{activityId}]`, members, and
 *   POST `/v3/conversations` for a personal chat, as proactive messages create one).
 * Inbound activities are signed as the Bot Connector signs them: RS256 JWTs with the
 * `serviceurl` claim, from a key generated for the test.
 */

export interface TeamsActivity {
  id: string;
  conversationId: string;
  replyToId?: string;
  body: Record<string, unknown>;
  updates: number;
}

export const BOT_ISSUER = 'https://api.botframework.com';

export async function startTeamsFake(opts: { appId: string; appPassword: string; members: Record<string, { userPrincipalName?: string; email?: string }> }) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `test-${randomBytes(4).toString('hex')}`;
  const jwk: JWK & { endorsements: string[] } = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256', endorsements: ['msteams', 'emulator'] };
  const tokens = new Set<string>();
  const activities: TeamsActivity[] = [];
  const tokenRequests: Array<Record<string, string>> = [];
  /** Personal conversations created, by id. */
  const personal = new Map<string, { member: string; tenantId: string }>();
  let seq = 0;

  const fake = await startHttpFake((r, res) => {
    const path = r.path.split('?')[0]!;
    if (r.method === 'GET' && path === '/v1/.well-known/openidconfiguration') {
      return json(res, 200, { issuer: BOT_ISSUER, authorization_endpoint: 'https://invalid.botframework.com', jwks_uri: `${fake.url}/v1/.well-known/keys`, id_token_signing_alg_values_supported: ['RS256'], token_endpoint_auth_methods_supported: ['private_key_jwt'] });
    }
    if (r.method === 'GET' && path === '/v1/.well-known/keys') return json(res, 200, { keys: [jwk] });
    if (r.method === 'POST' && path === '/botframework.com/oauth2/v2.0/token') {
      const form = Object.fromEntries(new URLSearchParams(r.body));
      tokenRequests.push(form);
      if (form.grant_type !== 'client_credentials' || form.client_id !== opts.appId || form.client_secret !== opts.appPassword) {
        return json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
      }
      const token = randomBytes(24).toString('base64url');
      tokens.add(token);
      return json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
    }
    const auth = /^Bearer (.+)$/.exec(r.headers.authorization ?? '');
    const authorized = !!auth && tokens.has(auth[1]!);
    if (r.method === 'POST' && path === '/teams/v3/conversations') {
      // Create conversation (a personal chat, for a proactive message): the same user gets the same chat.
      if (!authorized) return json(res, 401, { error: { code: 'Unauthorized', message: 'Authorization has been denied for this request.' } });
      const body = JSON.parse(r.body || '{}') as { isGroup?: boolean; bot?: { id?: string }; members?: Array<{ id?: string }>; tenantId?: string };
      const member = body.members?.[0]?.id;
      // The bot as Teams names it (28:{appId}); the member by Entra object id (personal scope).
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
      if (body.isGroup !== false || body.bot?.id !== `28:${opts.appId}` || body.members?.length !== 1 || !member || !uuid.test(member) || !body.tenantId) {
        return json(res, 400, { error: { code: 'BadArgument', message: 'a personal conversation needs isGroup false, the bot, one member and the tenant' } });
      }
      const id = `a:personal-${member}`;
      personal.set(id, { member, tenantId: body.tenantId });
      return json(res, 201, { id });
    }
    const m = /^\/teams\/v3\/conversations\/([^/]+)\/(activities|members)(?:\/([^/]+))?$/.exec(path);
    if (!m) return json(res, 404, { error: { code: 'NotFound', message: path } });
    if (!authorized) return json(res, 401, { error: { code: 'Unauthorized', message: 'Authorization has been denied for this request.' } });
    const conversationId = decodeURIComponent(m[1]!);
    const id = m[3] ? decodeURIComponent(m[3]) : undefined;
    if (m[2] === 'members') {
      const member = id ? opts.members[id] : undefined;
      if (!member) return json(res, 404, { error: { code: 'MemberNotFound', message: 'member not found' } });
      return json(res, 200, { id, name: 'member', ...member });
    }
    const body = JSON.parse(r.body || '{}') as Record<string, unknown>;
    if (r.method === 'POST' && !id) {
      const a: TeamsActivity = { id: `1:${++seq}`, conversationId, body, updates: 0 };
      activities.push(a);
      return json(res, 201, { id: a.id });
    }
    if (r.method === 'PUT' && id) {
      const a = activities.find((x) => x.conversationId === conversationId && x.id === id);
      if (!a) return json(res, 404, { error: { code: 'ActivityNotFound', message: 'activity not found' } });
      a.body = body;
      a.updates++;
      return json(res, 200, { id });
    }
    if (r.method === 'POST' && id) {
      const a: TeamsActivity = { id: `1:${++seq}`, conversationId, replyToId: id, body, updates: 0 };
      activities.push(a);
      return json(res, 201, { id: a.id });
    }
    return json(res, 405, { error: { code: 'MethodNotAllowed', message: r.method } });
  });

  async function sign(claims: Record<string, unknown>, o: { key?: typeof privateKey; kid?: string; issuedAt?: number; expiresIn?: number } = {}) {
    const now = o.issuedAt ?? Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? kid, typ: 'JWT' })
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + (o.expiresIn ?? 3600))
      .sign(o.key ?? privateKey);
  }

  return {
    ...fake,
    openIdMetadataUrl: `${fake.url}/v1/.well-known/openidconfiguration`,
    tokenUrl: `${fake.url}/botframework.com/oauth2/v2.0/token`,
    serviceUrl: `${fake.url}/teams/`,
    activities,
    tokenRequests,
    /** Cards posted to channel conversations. */
    cards: () => activities.filter((a) => !a.replyToId && !personal.has(a.conversationId)),
    /** Cards posted in the personal chat with a user (by Entra object id). */
    personalCards: (aadObjectId: string) => activities.filter((a) => !a.replyToId && personal.get(a.conversationId)?.member === aadObjectId),
    replies: (id: string) => activities.filter((a) => a.replyToId === id),
    /** A Bot Connector token for an activity: issuer, audience = app id, serviceurl claim. */
    token: (claims: { aud?: string; iss?: string; serviceurl?: string } = {}, o: Parameters<typeof sign>[1] = {}) =>
      sign({ iss: claims.iss ?? BOT_ISSUER, aud: claims.aud ?? opts.appId, serviceurl: claims.serviceurl ?? `${fake.url}/teams/` }, o),
    /** A token signed by a key that is not in the JWKS. */
    async forgedToken() {
      const other = await generateKeyPair('RS256');
      return sign({ iss: BOT_ISSUER, aud: opts.appId, serviceurl: `${fake.url}/teams/` }, { key: other.privateKey });
    },
    /** The invoke activity Teams sends when a user clicks an Action.Execute button. */
    invoke(a: { verb: string; data: Record<string, unknown>; aadObjectId?: string; userId?: string; tenantId: string; conversationId: string; replyToId?: string; serviceUrl?: string }) {
      return {
        type: 'invoke',
        name: 'adaptiveCard/action',
        id: `f:${randomUUID()}`,
        timestamp: new Date().toISOString(),
        channelId: 'msteams',
        serviceUrl: a.serviceUrl ?? `${fake.url}/teams/`,
        from: { id: a.userId ?? `29:${randomBytes(8).toString('hex')}`, name: 'Someone', ...(a.aadObjectId ? { aadObjectId: a.aadObjectId } : {}) },
        conversation: { id: a.conversationId, conversationType: 'channel', tenantId: a.tenantId, isGroup: true },
        recipient: { id: `28:${opts.appId}`, name: 'Countersign' },
        ...(a.replyToId ? { replyToId: a.replyToId } : {}),
        channelData: { tenant: { id: a.tenantId }, channel: { id: a.conversationId } },
        value: { action: { type: 'Action.Execute', verb: a.verb, data: a.data }, trigger: 'manual' },
        locale: 'en-US',
      };
    },
  };
}

export type TeamsFake = Awaited<ReturnType<typeof startTeamsFake>>;

/** The Action.Execute buttons of a card activity (none once the action is closed). */
export function cardActions(a: TeamsActivity): Array<{ verb?: string; data?: Record<string, unknown>; type: string }> {
  const attachments = a.body.attachments as Array<{ content: { actions?: Array<{ verb?: string; data?: Record<string, unknown>; type: string }> } }> | undefined;
  return (attachments?.[0]?.content.actions ?? []).filter((x) => x.type === 'Action.Execute');
}

export function cardText(a: TeamsActivity): string {
  return JSON.stringify(a.body.attachments ?? a.body.text ?? '');
}
