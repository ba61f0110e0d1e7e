import type { Authenticator } from '../../ports/authenticator.js';

/** Tries each authenticator in turn. */
export function chainAuthenticators(list: readonly Authenticator[]): Authenticator {
  return {
    async authenticate(bearer) {
      for (const a of list) {
        const p = await a.authenticate(bearer);
        if (p) return p;
      }
      return undefined;
    },
  };
}
