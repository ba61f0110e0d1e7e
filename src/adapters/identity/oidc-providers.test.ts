import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { oidcSchema } from '../../config/schema.js';
import { createOidcAuthenticator } from './oidc-authenticator.js';

/** The `oidc:` block under each provider's heading in docs/operations.md. */
function documented(provider: string): ReturnType<typeof oidcSchema.parse> {
  const doc = readFileSync(join(import.meta.dirname, '../../../docs/operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf(`### ${provider}\n`));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
  return oidcSchema.parse((parse(block) as { oidc: unknown }).oidc);
}

const keys = generateKeyPair('RS256');
let local = '';
let server: ReturnType<typeof createServer>;
beforeAll(async () => {
  const jwk = { ...(await exportJWK((await keys).publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  local = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** An authenticator with the documented settings; keys from a local JWKS (no outside calls). */
function authFor(provider: string, refusals: string[] = []) {
  const o = documented(provider);
  return { o, auth: createOidcAuthenticator({ ...o, jwksUri: local, configuredGroups: (id) => (id === 'alice@example.com' ? ['oncall'] : []), onRefused: (r) => refusals.push(r) }) };
}

async function token(iss: string, aud: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(iss).setAudience(aud).setIssuedAt().setExpirationTime('5m').sign((await keys).privateKey);
}

describe('the documented OIDC settings, with tokens shaped as each provider sends them', () => {
  it('Okta: email, email_verified and a groups claim', async () => {
    const { o, auth } = authFor('Okta');
    const t = await token(o.issuer, o.audience, { sub: '00u1', email: 'Alice@Example.com', email_verified: true, groups: ['release', 'Everyone'], cid: '0oa1', scp: ['openid'] });
    expect(await auth.authenticate(t)).toEqual({ type: 'human', id: 'alice@example.com', groups: ['release', 'Everyone', 'oncall'] });
  });

  it('Entra ID: the upn is the id and app roles the groups; no email_verified is needed', async () => {
    const { o, auth } = authFor('Microsoft Entra ID');
    const t = await token(o.issuer, o.audience, { oid: '9f1c0d2e-0000-4000-8000-000000000001', tid: '00000000-0000-0000-0000-000000000000', upn: 'bob@contoso.com', preferred_username: 'bob@contoso.com', roles: ['release'], ver: '2.0' });
    expect(await auth.authenticate(t)).toEqual({ type: 'human', id: 'bob@contoso.com', groups: ['release'] });
  });

  it('Entra ID with the default email claim is refused, and the reason says what to configure', async () => {
    const refusals: string[] = [];
    const { o } = authFor('Microsoft Entra ID');
    const auth = createOidcAuthenticator({ ...o, emailClaim: 'email', jwksUri: local, configuredGroups: () => [], onRefused: (r) => refusals.push(r) });
    const t = await token(o.issuer, o.audience, { oid: 'x', upn: 'bob@contoso.com', email: 'bob@contoso.com', roles: ['release'] });
    expect(await auth.authenticate(t)).toBeUndefined();
    expect(refusals[0]).toContain('no email_verified claim');
    expect(refusals[0]).toContain('Entra: upn');
    expect(refusals[0]).toContain('oidc.requireVerifiedEmail: false');
  });

  it('Google: email and email_verified, groups from the config only', async () => {
    const { o, auth } = authFor('Google');
    const t = await token(o.issuer, o.audience, { sub: '1234', azp: o.audience, email: 'alice@example.com', email_verified: true, hd: 'example.com', name: 'Alice' });
    expect(await auth.authenticate(t)).toEqual({ type: 'human', id: 'alice@example.com', groups: ['oncall'] });
    const unverified = await token(o.issuer, o.audience, { sub: '1', email: 'mallory@example.com', email_verified: false });
    expect(await auth.authenticate(unverified)).toBeUndefined();
  });

  it('Keycloak: a groups claim from a group membership mapper', async () => {
    const { o, auth } = authFor('Keycloak');
    const t = await token(o.issuer, o.audience, { sub: 'f:1', typ: 'Bearer', azp: 'countersign', email: 'carol@example.com', email_verified: true, preferred_username: 'carol', groups: ['release'], realm_access: { roles: ['offline_access'] } });
    expect(await auth.authenticate(t)).toEqual({ type: 'human', id: 'carol@example.com', groups: ['release'] });
  });
});
