import { importJWK, jwtVerify } from 'jose';
import type { JWK, JWTPayload, JWTHeaderParameters } from 'jose';

type Key = Awaited<ReturnType<typeof importJWK>>;
import { AppError } from '../../../domain/errors.js';

/** Bot Framework tokens may be at most five minutes off our clock. */
export const TEAMS_CLOCK_TOLERANCE_SECONDS = 300;

interface KeySet {
  keys: Map<string, { jwk: JWK & { endorsements?: unknown }; key?: Key }>;
  fetchedAt: number;
}

export interface BotFrameworkVerifier {
  /**
   * Verifies the `Authorization: Bearer` token of an inbound activity: RS256 signature by
   * a key from the OpenID metadata's JWKS (endorsed for the activity's channel when the key
   * lists endorsements), issuer, audience = the app id, expiry and not-before within five
   * minutes of skew, and the `serviceurl` claim equal to the activity's serviceUrl.
   * Throws TEAMS_UNAUTHENTICATED; there is no anonymous mode.
   */
  verify(authorization: string | undefined, activity: { serviceUrl?: unknown; channelId?: unknown }): Promise<JWTPayload>;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
const REFRESH_MS = 24 * 3600_000;
const MIN_REFETCH_MS = 60_000;

/** Service URLs compare by origin and path, ignoring a trailing slash and the host's case. */
export function sameServiceUrl(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    const path = (u: URL) => u.pathname.replace(/\/+$/, '');
    return x.protocol === y.protocol && x.host.toLowerCase() === y.host.toLowerCase() && path(x) === path(y) && !x.search && !y.search;
  } catch {
    return false;
  }
}

export function createBotFrameworkVerifier(opts: {
  openIdMetadataUrl: string;
  issuer: string;
  appId: string;
  now?: () => number;
  fetch?: typeof fetch;
}): BotFrameworkVerifier {
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  let cache: KeySet | undefined;
  let loading: Promise<KeySet> | undefined;
  let lastFetch = 0;

  async function getJson(url: string): Promise<Record<string, unknown>> {
    const res = await doFetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }

  async function load(): Promise<KeySet> {
    lastFetch = now();
    const meta = await getJson(opts.openIdMetadataUrl);
    const jwksUri = meta.jwks_uri;
    if (typeof jwksUri !== 'string') throw new Error('OpenID metadata has no jwks_uri');
    const jwks = await getJson(jwksUri);
    const keys = new Map<string, { jwk: JWK & { endorsements?: unknown } }>();
    // Keys without a string kid are skipped: a placeholder element in place of `[]` is skipped too, and one stored
    // under a non-string kid is never found by the header's string kid (both equivalent mutants).
    for (const k of Array.isArray(jwks.keys) ? (jwks.keys as Array<JWK & { endorsements?: unknown }>) : []) if (typeof k.kid === 'string') keys.set(k.kid, { jwk: k });
    return { keys, fetchedAt: now() };
  }

  async function keys(force: boolean): Promise<KeySet> {
    const stale = !cache || now() - cache.fetchedAt > REFRESH_MS;
    if (!stale && !(force && now() - lastFetch > MIN_REFETCH_MS)) return cache!;
    loading ??= load().finally(() => (loading = undefined));
    try {
      cache = await loading;
    } catch (e) {
      if (!cache) throw e;
    }
    return cache;
  }

  async function keyFor(header: JWTHeaderParameters, channelId: string): Promise<Key> {
    // jwtVerify's `algorithms: ['RS256']` refuses another alg before calling this: the alg
    // test is a second guard, so the mutation campaign's change to it is equivalent.
    if (header.alg !== 'RS256' || typeof header.kid !== 'string') throw new Error('unexpected token header');
    let set = await keys(false);
    let entry = set.keys.get(header.kid);
    if (!entry) {
      // Keys roll over: look again (at most once a minute).
      set = await keys(true);
      entry = set.keys.get(header.kid);
    }
    if (!entry) throw new Error('unknown signing key');
    const endorsements = entry.jwk.endorsements;
    if (Array.isArray(endorsements) && !endorsements.includes(channelId)) throw new Error(`signing key not endorsed for channel ${channelId}`);
    // importJWK's second argument decides the algorithm: the JWK's own `alg` ('' or any) does not matter (an equivalent mutant).
    entry.key ??= await importJWK({ ...entry.jwk, alg: 'RS256' }, 'RS256');
    return entry.key;
  }

  return {
    async verify(authorization, activity) {
      // exec(undefined) reads the string "undefined", which does not match: the type test is an equivalent mutant.
      const m = typeof authorization === 'string' ? BEARER.exec(authorization) : null;
      if (!m) throw new AppError('TEAMS_UNAUTHENTICATED', 'Missing Authorization: Bearer <Bot Framework token>');
      const channelId = typeof activity.channelId === 'string' ? activity.channelId : '';
      try {
        const { payload } = await jwtVerify(m[1]!, (h) => keyFor(h, channelId), {
          issuer: opts.issuer,
          audience: opts.appId,
          algorithms: ['RS256'],
          clockTolerance: TEAMS_CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['exp', 'nbf'],
          currentDate: new Date(now()),
        });
        const claimed = payload.serviceurl ?? payload.serviceUrl;
        if (typeof activity.serviceUrl !== 'string' || typeof claimed !== 'string' || !sameServiceUrl(claimed, activity.serviceUrl)) {
          throw new Error('the token\'s serviceurl claim does not match the activity\'s serviceUrl');
        }
        return payload;
      } catch (e) {
        // Nothing in the try throws an AppError today (keyFor and jose throw plain errors): an equivalent mutant, kept so one never gets wrapped.
        if (e instanceof AppError) throw e;
        throw new AppError('TEAMS_UNAUTHENTICATED', `Invalid Bot Framework token: ${(e as Error).message}`);
      }
    },
  };
}
