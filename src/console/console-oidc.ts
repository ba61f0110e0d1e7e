import { importJWK, importPKCS8 } from 'jose';
import type { CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import type { ConsoleOidcConfig } from '../config/console-schema.js';
import { AppError } from '../domain/errors.js';

/** What the login redirect must remember until the callback (kept in a short-lived HttpOnly cookie). */
export interface LoginTransaction {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

export interface ConsoleOidc {
  /** The IdP URL to send the browser to, and what the callback must check. */
  begin(returnTo: string): Promise<{ url: string; tx: LoginTransaction }>;
  /** Exchanges the code (PKCE) and validates the ID token (issuer, audience, expiry, nonce, signature). */
  finish(callbackUrl: URL, tx: LoginTransaction): Promise<Record<string, unknown>>;
  /** RP-initiated logout at the IdP, when its discovery document names an end_session_endpoint. */
  endSessionUrl(postLogoutRedirect: string): Promise<string | undefined>;
}

function loopback(u: URL): boolean {
  return u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
}

async function clientAuth(o: ConsoleOidcConfig): Promise<oidc.ClientAuth> {
  if (o.clientSecret !== undefined) return oidc.ClientSecretBasic(o.clientSecret);
  const k = o.privateKeyJwt!;
  const text = k.key.trim();
  const key = (text.startsWith('{') ? await importJWK(JSON.parse(text) as Parameters<typeof importJWK>[0], k.alg) : await importPKCS8(text, k.alg)) as CryptoKey;
  return oidc.PrivateKeyJwt(k.kid ? { key, kid: k.kid } : key);
}

/**
 * The console's OIDC relying party (openid-client): authorization code flow with PKCE
 * (S256), state and nonce. Discovery runs on first use and is retried after a failure,
 * so a gateway starts even while its IdP is briefly unreachable.
 */
export function createConsoleOidc(o: ConsoleOidcConfig, redirectUri: () => string): ConsoleOidc {
  const issuer = new URL(o.issuer);
  const insecure = issuer.protocol === 'http:';
  if (insecure && !loopback(issuer) && !o.allowInsecureHttp) {
    throw new AppError('CONFIG_INVALID', `console.oidc.issuer must be https (${o.issuer}); http is allowed on loopback addresses only`);
  }
  let config: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    config ??= (async () => {
      try {
        return await oidc.discovery(issuer, o.clientId, undefined, await clientAuth(o), { timeout: 10, ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}) });
      } catch (e) {
        config = undefined;
        throw new AppError('CONSOLE_IDP_UNAVAILABLE', `The identity provider could not be reached: ${e instanceof Error ? e.message : String(e)}`);
      }
    })();
    return config;
  };
  const scope = [...new Set(['openid', ...o.scopes])].join(' ');

  return {
    async begin(returnTo) {
      const c = await configuration();
      const tx: LoginTransaction = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), returnTo };
      const url = oidc.buildAuthorizationUrl(c, {
        redirect_uri: redirectUri(),
        scope,
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(tx.verifier),
        code_challenge_method: 'S256',
        state: tx.state,
        nonce: tx.nonce,
      });
      return { url: url.href, tx };
    },
    async finish(callbackUrl, tx) {
      const c = await configuration();
      try {
        const tokens = await oidc.authorizationCodeGrant(c, callbackUrl, { pkceCodeVerifier: tx.verifier, expectedState: tx.state, expectedNonce: tx.nonce, idTokenExpected: true });
        const claims = tokens.claims();
        if (!claims) throw new Error('no ID token');
        return { ...claims };
      } catch (e) {
        throw new AppError('CONSOLE_SIGNIN_FAILED', `Sign-in failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    async endSessionUrl(postLogoutRedirect) {
      let c: oidc.Configuration;
      try {
        c = await configuration();
      } catch {
        return undefined;
      }
      if (!c.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(c, { client_id: o.clientId, post_logout_redirect_uri: postLogoutRedirect }).href;
    },
  };
}
