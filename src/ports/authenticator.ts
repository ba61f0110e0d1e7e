import type { Principal } from '../domain/identity.js';

/** Turns a presented bearer credential into a principal, or undefined when it is not valid. */
export interface Authenticator {
  authenticate(bearer: string): Promise<Principal | undefined>;
}
