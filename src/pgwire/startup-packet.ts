import { SQLSTATE, WireProtocolError } from './wire-errors.js';
import { BodyReader } from './wire-reader.js';

/** What the first packet of a connection asks for. */
export type StartupPacket =
  | { type: 'ssl' }
  | { type: 'gssenc' }
  | { type: 'cancel'; pid: number; key: number }
  | { type: 'startup'; minor: number; params: Record<string, string>; unknownOptions: string[] };

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const MAX_PARAMS = 64;

/**
 * Decodes the start-up packet's body (after its length). Protocol 3.x only: a 3.x minor
 * above 0 is served as 3.0 (the caller answers NegotiateProtocolVersion, as PostgreSQL
 * does); any other version is refused with FATAL 0A000.
 */
export function decodeStartupPacket(body: Buffer): StartupPacket {
  const r = new BodyReader(body);
  const code = r.int32();
  if (code === SSL_REQUEST) return r.end('SSLRequest'), { type: 'ssl' };
  if (code === GSSENC_REQUEST) return r.end('GSSENCRequest'), { type: 'gssenc' };
  if (code === CANCEL_REQUEST) {
    const pid = r.int32();
    const key = r.int32();
    r.end('CancelRequest');
    return { type: 'cancel', pid, key };
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major !== 3) {
    throw new WireProtocolError(`unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`, SQLSTATE.FEATURE_NOT_SUPPORTED);
  }
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const unknownOptions: string[] = [];
  for (let i = 0; ; i++) {
    if (i > MAX_PARAMS) throw new WireProtocolError('too many startup parameters');
    const name = r.cstring();
    if (name === '') break;
    const value = r.cstring();
    if (name.startsWith('_pq_.')) unknownOptions.push(name);
    else params[name] = value;
  }
  r.end('startup packet');
  return { type: 'startup', minor, params, unknownOptions };
}
