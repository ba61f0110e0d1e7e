import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcAuthenticator } from './oidc-authenticator.js';
import { createTokenAuthenticator, hashToken } from './token-authenticator.js';

describe('token authentication', () => {
  // Built in each test, not when the file loads: the mutation campaign sees which test covers what.
  const authenticator = () =>
    createTokenAuthenticator([
      { tokenHash: hashToken('agent-token-0123456789'), principal: { type: 'agent', id: 'bot', owner: 'o@x', labels: {} } },
      { tokenHash: hashToken('human-token-0123456789'), principal: { type: 'human', id: 'h@x', groups: ['g'] } },
    ]);

  it('knows a token only by its hash', async () => {
    const auth = authenticator();
    expect(hashToken('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // The UTF-8 bytes of the token (a config may hold any text).
    expect(hashToken('é')).toBe('sha256:4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
    expect(await auth.authenticate('agent-token-0123456789')).toMatchObject({ type: 'agent', id: 'bot' });
    expect(await auth.authenticate('human-token-0123456789')).toMatchObject({ type: 'human', id: 'h@x' });
  });

  it('knows a non-ASCII token by the hash of its UTF-8 bytes', async () => {
    const auth = createTokenAuthenticator([{ tokenHash: 'sha256:4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c', principal: { type: 'human', id: 'e@x', groups: [] } }]);
    expect(await auth.authenticate('é')).toMatchObject({ id: 'e@x' });
    expect(await auth.authenticate('e')).toBeUndefined();
  });

  it('refuses near misses', async () => {
    const auth = authenticator();
    for (const t of ['', 'agent-token-012345678', 'agent-token-01234567890', 'AGENT-TOKEN-0123456789', hashToken('agent-token-0123456789')]) {
      expect(await auth.authenticate(t)).toBeUndefined();
    }
  });

  it('refuses a config where two identities share a token', () => {
    const p = { type: 'human' as const, id: 'a', groups: [] };
    expect(() => createTokenAuthenticator([{ tokenHash: hashToken('x'), principal: p }, { tokenHash: hashToken('x'), principal: p }])).toThrow('two identities share one token');
    // Distinct tokens are fine.
    expect(() => createTokenAuthenticator([{ tokenHash: hashToken('x'), principal: p }, { tokenHash: hashToken('y'), principal: p }])).not.toThrow();
  });
});

describe('OIDC authentication', () => {
  let issuer = '';
  let server: ReturnType<typeof createServer>;
  const keys = generateKeyPair('RS256');
  const other = generateKeyPair('RS256');

  beforeAll(async () => {
    const jwk = { ...(await exportJWK((await keys).publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      if (req.url === '/jwks') return res.end(JSON.stringify({ keys: [jwk] }));
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const auth = () =>
    createOidcAuthenticator({ issuer, audience: 'countersign', groupsClaim: 'groups', emailClaim: 'email', clockToleranceSeconds: 5, requireVerifiedEmail: true, configuredGroups: (id) => (id === 'alice@example.com' ? ['release'] : []) });

  async function jwt(claims: Record<string, unknown>, opts: { key?: 'other'; iss?: string; aud?: string; exp?: string | number } = {}) {
    const k = opts.key === 'other' ? (await other).privateKey : (await keys).privateKey;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(opts.iss ?? issuer)
      .setAudience(opts.aud ?? 'countersign')
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(k);
  }

  it('accepts a valid token: id from the email claim, groups from the claim plus config', async () => {
    const p = await auth().authenticate(await jwt({ email: 'Alice@Example.com', email_verified: true, groups: ['oncall'] }));
    expect(p).toEqual({ type: 'human', id: 'alice@example.com', groups: ['oncall', 'release'] });
  });

  it('refuses a wrong audience, a wrong issuer, an expired token and a foreign signature', async () => {
    const a = auth();
    expect(await a.authenticate(await jwt({ email: 'a@x.com', email_verified: true }, { aud: 'other' }))).toBeUndefined();
    expect(await a.authenticate(await jwt({ email: 'a@x.com', email_verified: true }, { iss: 'https://evil.example' }))).toBeUndefined();
    expect(await a.authenticate(await jwt({ email: 'a@x.com', email_verified: true }, { exp: Math.floor(Date.now() / 1000) - 3600 }))).toBeUndefined();
    expect(await a.authenticate(await jwt({ email: 'a@x.com', email_verified: true }, { key: 'other' }))).toBeUndefined();
  });

  it('refuses an unverified email, and look-alike characters that would lower-case into another person', async () => {
    const a = auth();
    expect(await a.authenticate(await jwt({ email: 'alice@example.com', groups: ['release'] }))).toBeUndefined();
    expect(await a.authenticate(await jwt({ email: 'alice@example.com', email_verified: false }))).toBeUndefined();
    // U+212A KELVIN SIGN lower-cases to "k".
    expect('\u212Aate@example.com'.toLowerCase()).toBe('kate@example.com');
    expect(await a.authenticate(await jwt({ email: '\u212Aate@example.com', email_verified: true }))).toBeUndefined();
  });

  it('refuses an unsigned token and a token without an email', async () => {
    const a = auth();
    const payload = Buffer.from(JSON.stringify({ email: 'a@x.com', iss: issuer, aud: 'countersign', exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect(await a.authenticate(none)).toBeUndefined();
    expect(await a.authenticate(`${none}x`)).toBeUndefined();
    expect(await a.authenticate(await jwt({ sub: 'x' }))).toBeUndefined();
  });
});
