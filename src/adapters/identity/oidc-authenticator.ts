import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import type { Principal } from '../../domain/identity.js';
import { HUMAN_ID } from '../../domain/identity.js';
import type { Authenticator } from '../../ports/authenticator.js';

export interface OidcOptions {
  issuer: string;
  audience: string;
  groupsClaim: string;
  emailClaim: string;
  jwksUri?: string | undefined;
  clockToleranceSeconds: number;
  requireVerifiedEmail: boolean;
  /** Told why a token was refused (for the server's log; never sent to the client). */
  onRefused?(reason: string): void;
  /** Groups configured for a known human are added to the token's groups. */
  configuredGroups(id: string): readonly string[];
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function looksLikeJwt(bearer: string): boolean {
  return JWT_SHAPE.test(bearer);
}

/** Finds the JWKS through OIDC discovery once, then caches the key set (jose refreshes keys on rotation). */
function keySet(o: OidcOptions): JWTVerifyGetKey {
  let resolved: JWTVerifyGetKey | undefined;
  let pending: Promise<JWTVerifyGetKey> | undefined;
  const discover = async (): Promise<JWTVerifyGetKey> => {
    let uri = o.jwksUri;
    if (!uri) {
      const res = await fetch(new URL('.well-known/openid-configuration', o.issuer.endsWith('/') ? o.issuer : `${o.issuer}/`), { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`OIDC discovery failed: ${res.status}`);
      const meta = (await res.json()) as { jwks_uri?: unknown; issuer?: unknown };
      if (typeof meta.jwks_uri !== 'string') throw new Error('OIDC discovery: no jwks_uri');
      uri = meta.jwks_uri;
    }
    return createRemoteJWKSet(new URL(uri));
  };
  return async (header, token) => {
    if (!resolved) {
      pending ??= discover().finally(() => (pending = undefined));
      resolved = await pending;
    }
    return resolved(header, token);
  };
}

/** Why a token identified by its `email` claim was refused, with what to configure (docs/operations.md#oidc-providers). */
export function unverifiedEmail(claim: unknown): string {
  if (claim === undefined) {
    return 'the token has no email_verified claim, and oidc.requireVerifiedEmail is on. Microsoft Entra ID sends none: set oidc.emailClaim to a claim the provider verifies (Entra: upn). Set oidc.requireVerifiedEmail: false only if this issuer verifies every address it puts in email';
  }
  return `email_verified is ${JSON.stringify(claim)}, not true: the provider has not verified this address`;
}

/** Humans presenting an OIDC JWT, verified against the issuer's JWKS (signature, issuer, audience, expiry). */
export function createOidcAuthenticator(o: OidcOptions): Authenticator {
  const keys = keySet(o);
  return {
    async authenticate(bearer) {
      if (!looksLikeJwt(bearer)) return undefined;
      try {
        const { payload } = await jwtVerify(bearer, keys, {
          issuer: o.issuer,
          audience: o.audience,
          clockTolerance: o.clockToleranceSeconds,
          algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
          requiredClaims: ['exp'],
        });
        const id = payload[o.emailClaim];
        if (typeof id !== 'string' || !HUMAN_ID.test(id)) {
          o.onRefused?.(`the ${o.emailClaim} claim is missing or not printable ASCII`);
          return undefined;
        }
        if (o.requireVerifiedEmail && o.emailClaim === 'email' && payload.email_verified !== true) {
          o.onRefused?.(unverifiedEmail(payload.email_verified));
          return undefined;
        }
        const claimed = payload[o.groupsClaim];
        const groups = Array.isArray(claimed) ? claimed.filter((g): g is string => typeof g === 'string') : [];
        const human = id.toLowerCase();
        const principal: Principal = { type: 'human', id: human, groups: [...new Set([...groups, ...o.configuredGroups(human)])] };
        return principal;
      } catch (e) {
        o.onRefused?.(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
        return undefined;
      }
    },
  };
}

