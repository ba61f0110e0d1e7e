import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createBotFrameworkVerifier, sameServiceUrl } from './teams-jwt.js';

const APP = '11111111-2222-3333-4444-555555555555';
const SERVICE = 'https://smba.trafficmanager.net/emea/';

async function setup(endorsements: string[] = ['msteams']) {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig', endorsements };
  let fetches = 0;
  const fakeFetch = (async (url: string | URL) => {
    fetches++;
    const body = String(url).endsWith('/openid') ? { issuer: 'https://api.botframework.com', jwks_uri: 'https://keys.test/jwks' } : { keys: [jwk] };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const now = { ms: Date.UTC(2030, 0, 1) };
  const verifier = createBotFrameworkVerifier({ openIdMetadataUrl: 'https://meta.test/openid', issuer: 'https://api.botframework.com', appId: APP, fetch: fakeFetch, now: () => now.ms });
  const token = (claims: Record<string, unknown> = {}, iat = now.ms / 1000) =>
    new SignJWT({ iss: 'https://api.botframework.com', aud: APP, serviceurl: SERVICE, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + 3600)
      .sign(privateKey);
  return { verifier, token, now, fetches: () => fetches };
}

const activity = { serviceUrl: SERVICE, channelId: 'msteams' };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe('Bot Framework token verification', () => {
  it('accepts a valid token and caches the keys', async () => {
    const s = await setup();
    expect(await code(s.verifier.verify(`Bearer ${await s.token()}`, activity))).toBe('ok');
    expect(await code(s.verifier.verify(`Bearer ${await s.token()}`, activity))).toBe('ok');
    expect(s.fetches()).toBe(2); // metadata + JWKS, once
  });

  it('allows at most five minutes of clock skew either way', async () => {
    const s = await setup();
    const t = Date.UTC(2030, 0, 1) / 1000;
    expect(await code(s.verifier.verify(`Bearer ${await s.token({}, t + 290)}`, activity))).toBe('ok'); // not yet valid by 290 s
    expect(await code(s.verifier.verify(`Bearer ${await s.token({}, t + 400)}`, activity))).toBe('TEAMS_UNAUTHENTICATED');
    expect(await code(s.verifier.verify(`Bearer ${await s.token({}, t - 3600 - 290)}`, activity))).toBe('ok'); // expired 290 s ago
    expect(await code(s.verifier.verify(`Bearer ${await s.token({}, t - 3600 - 400)}`, activity))).toBe('TEAMS_UNAUTHENTICATED');
  });

  it('refuses a key not endorsed for the activity\'s channel, and a missing or non-Bearer header', async () => {
    const s = await setup(['skype']);
    expect(await code(s.verifier.verify(`Bearer ${await s.token()}`, activity))).toBe('TEAMS_UNAUTHENTICATED');
    expect(await code(s.verifier.verify(undefined, activity))).toBe('TEAMS_UNAUTHENTICATED');
    expect(await code(s.verifier.verify(`Basic ${await s.token()}`, activity))).toBe('TEAMS_UNAUTHENTICATED');
  });

  it('compares service URLs by origin and path only', () => {
    expect(sameServiceUrl('https://SMBA.trafficmanager.net/emea', SERVICE)).toBe(true);
    expect(sameServiceUrl('https://smba.trafficmanager.net/amer/', SERVICE)).toBe(false);
    expect(sameServiceUrl('http://smba.trafficmanager.net/emea/', SERVICE)).toBe(false);
    expect(sameServiceUrl('not a url', SERVICE)).toBe(false);
  });
});
