import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createBotFrameworkVerifier, sameServiceUrl } from './teams-jwt.js';

// Edges the mutation campaign found unpinned (docs/reliability.md): the key cache's
// refresh and rollover limits, what a failed fetch does with and without a cache, the
// token header checks, and each refusal's reason.

const APP = '11111111-2222-3333-4444-555555555555';
const SERVICE = 'https://smba.trafficmanager.net/emea/';
const DAY = 24 * 3600_000;
const activity = { serviceUrl: SERVICE, channelId: 'msteams' };

async function setup() {
  const pair = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', use: 'sig', endorsements: ['msteams'] };
  const state = { keys: [jwk] as unknown, meta: { jwks_uri: 'https://keys.test/jwks' } as Record<string, unknown>, status: 200, fetches: 0, inits: [] as RequestInit[] };
  const fakeFetch = (async (url: string | URL, init?: RequestInit) => {
    state.fetches++;
    state.inits.push(init ?? {});
    const body = String(url).endsWith('/openid') ? state.meta : { keys: state.keys };
    return new Response(JSON.stringify(body), { status: state.status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const now = { ms: Date.UTC(2030, 0, 1) };
  const verifier = createBotFrameworkVerifier({ openIdMetadataUrl: 'https://meta.test/openid', issuer: 'https://api.botframework.com', appId: APP, fetch: fakeFetch, now: () => now.ms });
  const token = (o: { kid?: string | undefined; key?: CryptoKey; alg?: string; claims?: Record<string, unknown> } = {}) => {
    const iat = Math.floor(now.ms / 1000);
    const header: { alg: string; kid?: string } = { alg: o.alg ?? 'RS256' };
    if (!('kid' in o)) header.kid = 'k1';
    else if (o.kid !== undefined) header.kid = o.kid;
    return new SignJWT({ iss: 'https://api.botframework.com', aud: APP, serviceurl: SERVICE, ...o.claims })
      .setProtectedHeader(header)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + 3600)
      .sign(o.key ?? pair.privateKey);
  };
  return { verifier, token, now, state, pair };
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
}

describe('Bot Framework keys: cache, refresh and rollover', () => {
  it('fetches without following redirects and with a timeout, and refreshes the keys only once they are more than a day old', async () => {
    const s = await setup();
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token()}`, activity))).toBe('ok');
    expect(s.state.fetches).toBe(2);
    expect(s.state.inits.every((i) => i.redirect === 'error' && i.signal instanceof AbortSignal)).toBe(true);
    s.now.ms += DAY;
    await s.verifier.verify(`Bearer ${await s.token()}`, activity);
    expect(s.state.fetches).toBe(2);
    s.now.ms += 1;
    await s.verifier.verify(`Bearer ${await s.token()}`, activity);
    expect(s.state.fetches).toBe(4);
  });

  it('looks again for an unknown key id, at most once a minute, and finds a rolled-over key', async () => {
    const s = await setup();
    await s.verifier.verify(`Bearer ${await s.token()}`, activity);
    const next = await generateKeyPair('RS256');
    const k2 = { ...(await exportJWK(next.publicKey)), kid: 'k2', use: 'sig' };
    // Within the minute: no new fetch, the key stays unknown.
    s.now.ms += 60_000;
    s.state.keys = [k2];
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token({ kid: 'k2', key: next.privateKey })}`, activity))).toBe('TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: unknown signing key');
    expect(s.state.fetches).toBe(2);
    s.now.ms += 1;
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token({ kid: 'k2', key: next.privateKey })}`, activity))).toBe('ok');
    expect(s.state.fetches).toBe(4);
  });

  it('keeps the keys it has when a refresh fails, and refuses with the reason when it has none', async () => {
    const s = await setup();
    await s.verifier.verify(`Bearer ${await s.token()}`, activity);
    s.state.status = 500;
    s.now.ms += DAY + 1;
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token()}`, activity))).toBe('ok');
    const fresh = await setup();
    fresh.state.status = 503;
    expect(await outcome(fresh.verifier.verify(`Bearer ${await fresh.token()}`, activity))).toBe('TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: https://meta.test/openid: HTTP 503');
  });

  it('refuses when the metadata names no JWKS, or the JWKS has no usable keys', async () => {
    const s = await setup();
    s.state.meta = { issuer: 'x' };
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token()}`, activity))).toBe('TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: OpenID metadata has no jwks_uri');
    const t = await setup();
    t.state.keys = { kid: 'k1' };
    expect(await outcome(t.verifier.verify(`Bearer ${await t.token()}`, activity))).toBe('TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: unknown signing key');
    const u = await setup();
    u.state.keys = [{ ...(u.state.keys as Array<Record<string, unknown>>)[0], kid: 7 }];
    expect(await outcome(u.verifier.verify(`Bearer ${await u.token()}`, activity))).toBe('TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: unknown signing key');
  });
});

describe('Bot Framework tokens: header and claims', () => {
  it('refuses another algorithm, and a token without a key id as an unexpected header', async () => {
    const s = await setup();
    const pss = await generateKeyPair('PS256');
    // jose's `algorithms: ['RS256']` refuses it before the key is looked up.
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token({ alg: 'PS256', key: pss.privateKey })}`, activity))).toMatch(/^TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: .*"alg"/);
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token({ kid: undefined })}`, activity))).toBe('TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: unexpected token header');
  });

  it('names the channel a key is not endorsed for, and treats a missing channel as none', async () => {
    const s = await setup();
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token()}`, { serviceUrl: SERVICE, channelId: 'skype' }))).toBe('TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: signing key not endorsed for channel skype');
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token()}`, { serviceUrl: SERVICE }))).toBe('TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: signing key not endorsed for channel ');
  });

  it('refuses a token without a serviceurl claim, and accepts the serviceUrl spelling of it', async () => {
    const s = await setup();
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token({ claims: { serviceurl: undefined } })}`, activity))).toBe(
      "TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: the token's serviceurl claim does not match the activity's serviceUrl",
    );
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token({ claims: { serviceurl: undefined, serviceUrl: SERVICE } })}`, activity))).toBe('ok');
  });
});

describe('service URLs', () => {
  it('compare by protocol, host in any case and path without trailing slashes, never with a query', () => {
    expect(sameServiceUrl('https://SMBA.trafficmanager.net/emea//', 'https://smba.trafficmanager.net/emea')).toBe(true);
    expect(sameServiceUrl('http://smba.trafficmanager.net/emea/', SERVICE)).toBe(false);
    expect(sameServiceUrl('https://smba.trafficmanager.net:8443/emea/', SERVICE)).toBe(false);
    expect(sameServiceUrl('https://other.example/emea/', SERVICE)).toBe(false);
    expect(sameServiceUrl('https://smba.trafficmanager.net/amer/', SERVICE)).toBe(false);
    expect(sameServiceUrl(`${SERVICE}?x=1`, SERVICE)).toBe(false);
    expect(sameServiceUrl(SERVICE, `${SERVICE}?x=1`)).toBe(false);
    expect(sameServiceUrl('not a url', SERVICE)).toBe(false);
  });
});

describe('the Authorization header', () => {
  it('is refused unless it is exactly `Bearer` and one token, with the same message when it is missing', async () => {
    const s = await setup();
    const t = await s.token();
    const missing = 'TEAMS_UNAUTHENTICATED: Missing Authorization: Bearer <Bot Framework token>';
    for (const header of [undefined, '', `x Bearer ${t}`, `Bearer ${t} x`, `Bearer ${t}\n`, `bearer ${t}`, `Bearer  ${t}`]) {
      expect(await outcome(s.verifier.verify(header, activity))).toBe(missing);
    }
    expect(s.state.fetches).toBe(0);
    expect(await outcome(s.verifier.verify(`Bearer ${t}`, activity))).toBe('ok');
  });
});

describe('Bot Framework tokens: required claims and the service URL types', () => {
  it('refuses a token without an expiry or without a not-before', async () => {
    const s = await setup();
    const iat = Math.floor(s.now.ms / 1000);
    const base = () => new SignJWT({ iss: 'https://api.botframework.com', aud: APP, serviceurl: SERVICE }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuedAt(iat);
    const noExp = await base().setNotBefore(iat).sign(s.pair.privateKey);
    const noNbf = await base().setExpirationTime(iat + 3600).sign(s.pair.privateKey);
    expect(await outcome(s.verifier.verify(`Bearer ${noExp}`, activity))).toMatch(/^TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: .*"exp"/);
    expect(await outcome(s.verifier.verify(`Bearer ${noNbf}`, activity))).toMatch(/^TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: .*"nbf"/);
  });

  it('refuses a service URL that is not a string on either side, even one that would read as the right URL', async () => {
    const s = await setup();
    const mismatch = "TEAMS_UNAUTHENTICATED: Invalid Bot Framework token: the token's serviceurl claim does not match the activity's serviceUrl";
    // new URL([x]) reads the array as the string x: only the type checks refuse these.
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token()}`, { serviceUrl: [SERVICE], channelId: 'msteams' }))).toBe(mismatch);
    expect(await outcome(s.verifier.verify(`Bearer ${await s.token({ claims: { serviceurl: [SERVICE] } })}`, activity))).toBe(mismatch);
  });
});
