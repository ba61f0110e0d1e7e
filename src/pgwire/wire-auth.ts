import type { Principal } from '../domain/identity.js';
import { SCRAM_MECHANISM, ScramExchange, mockVerifier } from './scram-server.js';
import { authenticationCleartext, authenticationSasl, authenticationSaslContinue, authenticationSaslFinal } from './server-messages.js';
import { WireProtocolError } from './wire-errors.js';
import type { WireIdentities } from './wire-gate.js';
import { BodyReader } from './wire-reader.js';

/**
 * One client's authentication, message by message: SCRAM-SHA-256 when the identity's
 * token is known in clear (a verifier is derived from it at start), a cleartext password
 * only over TLS for an identity known by its token's hash alone. MD5 and trust are never
 * offered. An unknown user goes through a SCRAM exchange that cannot succeed, and gets
 * the same answer as a wrong password.
 */
export class WireAuth {
  readonly method: 'scram-sha-256' | 'password';
  private scram: ScramExchange | undefined;
  private step = 0;

  constructor(
    private readonly identities: WireIdentities,
    private readonly user: string,
    tls: boolean,
  ) {
    const id = identities.find(user);
    this.method = !id?.verifier && tls ? 'password' : 'scram-sha-256';
    if (this.method === 'scram-sha-256') this.scram = new ScramExchange(id?.verifier ?? mockVerifier(identities.mockSecret, user));
  }

  /** The first message: the mechanisms offered, or a request for the password. */
  start(): Buffer {
    return this.method === 'password' ? authenticationCleartext() : authenticationSasl([SCRAM_MECHANISM]);
  }

  /**
   * The client's next PasswordMessage / SASL response. Returns what to send and, when
   * done, the principal (or null for a failed attempt).
   */
  async next(body: Buffer): Promise<{ reply?: Buffer; done?: Principal | null }> {
    if (this.method === 'password') {
      const r = new BodyReader(body);
      const password = r.cstring();
      r.end('PasswordMessage');
      return { done: (await this.identities.checkPassword(this.user, password)) ?? null };
    }
    if (this.step++ === 0) return { reply: authenticationSaslContinue(this.scram!.first(body)) };
    if (this.step > 2) throw new WireProtocolError('unexpected authentication message');
    const final = this.scram!.final(body);
    if (!final) return { done: null };
    const id = this.identities.find(this.user);
    if (!id) return { done: null };
    return { reply: authenticationSaslFinal(final), done: id.principal };
  }
}
