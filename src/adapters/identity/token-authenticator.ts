import { createHash, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../../domain/identity.js';
import type { Authenticator } from '../../ports/authenticator.js';

export interface TokenEntry {
  /** `sha256:<hex>` of the token. */
  tokenHash: string;
  principal: Principal;
}

export function hashToken(token: string): string {
  // 'utf8' is also what update() assumes for an unknown encoding name, so the mutation
  // campaign's `update(token, "")` is an equivalent mutant here and on line 30.
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/**
 * Bearer tokens, held only as SHA-256 hashes. The presented token is hashed and
 * looked up by hash; the match is then confirmed with a constant-time comparison,
 * so neither the token nor its hash is compared byte by byte with early exit.
 */
export function createTokenAuthenticator(entries: readonly TokenEntry[]): Authenticator {
  const byHash = new Map<string, { digest: Buffer; principal: Principal }>();
  for (const e of entries) {
    if (byHash.has(e.tokenHash)) throw new Error('two identities share one token');
    byHash.set(e.tokenHash, { digest: Buffer.from(e.tokenHash.slice(7), 'hex'), principal: e.principal });
  }
  return {
    authenticate(bearer) {
      const digest = createHash('sha256').update(bearer, 'utf8').digest();
      const found = byHash.get(`sha256:${digest.toString('hex')}`);
      return Promise.resolve(found && timingSafeEqual(found.digest, digest) ? found.principal : undefined);
    },
  };
}
