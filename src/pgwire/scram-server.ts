import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { WireProtocolError } from './wire-errors.js';
import { BodyReader } from './wire-reader.js';

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL's server runs it, with node:crypto.
 * Written here rather than taken from pg-gateway: its SCRAM failure is SQLSTATE 28000
 * where PostgreSQL (and the issue) say 28P01, and it fixes one method for every user,
 * while an identity configured by token hash alone cannot have a SCRAM verifier.
 */
export interface ScramVerifier {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
const ITERATIONS = 4096;

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

/** The verifier PostgreSQL would store for this password (a Countersign token). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = ITERATIONS): ScramVerifier {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return { salt, iterations, storedKey: createHash('sha256').update(hmac(salted, 'Client Key')).digest(), serverKey: hmac(salted, 'Server Key') };
}

/**
 * A verifier no proof matches, with a salt stable per user name, so that an unknown user
 * goes through the same exchange as a known one and learns nothing (PostgreSQL's "mock
 * authentication").
 */
export function mockVerifier(secret: Buffer, user: string): ScramVerifier {
  return { salt: hmac(secret, `salt:${user}`).subarray(0, 16), iterations: ITERATIONS, storedKey: randomBytes(32), serverKey: randomBytes(32) };
}

/** One exchange: `first` answers the SASLInitialResponse, `final` checks the SASLResponse. */
export class ScramExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  constructor(private readonly verifier: ScramVerifier) {}

  /** The SASLInitialResponse's body: mechanism, then the client-first-message. Returns the server-first-message. */
  first(body: Buffer): string {
    const r = new BodyReader(body);
    const mechanism = r.cstring();
    if (mechanism !== SCRAM_MECHANISM) throw new WireProtocolError('client selected an invalid SASL authentication mechanism', '28000');
    const len = r.int32();
    if (len < 0) throw new WireProtocolError('malformed SCRAM message (empty message)');
    const text = r.bytes(len).toString('utf8');
    r.end('SASLInitialResponse');
    // gs2-header: no channel binding ("n") or "y" (the client could, the server did not offer it).
    const m = /^([ny]),(?:a=[^,]*)?,(.*)$/s.exec(text);
    if (!m) throw new WireProtocolError('malformed SCRAM message (channel binding is not supported)', '28000');
    this.clientFirstBare = m[2]!;
    const cnonce = /(?:^|,)r=([^,]+)/.exec(this.clientFirstBare)?.[1];
    if (!cnonce || !/^[\x21-\x2b\x2d-\x7e]+$/.test(cnonce)) throw new WireProtocolError('malformed SCRAM message (invalid nonce)', '28000');
    this.nonce = cnonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /** The SASLResponse's body: the client-final-message. Returns the server-final-message, or undefined when the proof is wrong. */
  final(body: Buffer): string | undefined {
    const text = body.toString('utf8');
    const m = /^(c=[^,]*,r=([^,]*))(?:,[^p][^,]*)*,p=([A-Za-z0-9+/=]+)$/.exec(text);
    if (!m) throw new WireProtocolError('malformed SCRAM message (client-final-message)', '28000');
    if (m[2] !== this.nonce) return undefined;
    const proof = Buffer.from(m[3]!, 'base64');
    if (proof.length !== 32) return undefined;
    const auth = `${this.clientFirstBare},${this.serverFirst},${m[1]}`;
    const signature = hmac(this.verifier.storedKey, auth);
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = proof[i]! ^ signature[i]!;
    const stored = createHash('sha256').update(clientKey).digest();
    if (!timingSafeEqual(stored, this.verifier.storedKey)) return undefined;
    return `v=${hmac(this.verifier.serverKey, auth).toString('base64')}`;
  }
}
