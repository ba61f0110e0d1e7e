/**
 * Server messages the gateway writes itself (authentication, errors, notices, status);
 * the rest come from PostgreSQL and are relayed as they are. pg-protocol serializes only
 * frontend messages, so these few are written here.
 */

function message(type: string, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type.charCodeAt(0);
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

const int32 = (n: number) => {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n);
  return b;
};
const cstr = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);

export const authenticationOk = () => message('R', int32(0));
export const authenticationCleartext = () => message('R', int32(3));
export const authenticationSasl = (mechanisms: readonly string[]) => message('R', Buffer.concat([int32(10), ...mechanisms.map(cstr), Buffer.from([0])]));
export const authenticationSaslContinue = (data: string) => message('R', Buffer.concat([int32(11), Buffer.from(data, 'utf8')]));
export const authenticationSaslFinal = (data: string) => message('R', Buffer.concat([int32(12), Buffer.from(data, 'utf8')]));
export const parameterStatus = (name: string, value: string) => message('S', Buffer.concat([cstr(name), cstr(value)]));
export const backendKeyData = (pid: number, key: number) => message('K', Buffer.concat([int32(pid), int32(key)]));
export const readyForQuery = (status: 'I' | 'T' | 'E') => message('Z', Buffer.from(status, 'latin1'));
export const commandComplete = (tag: string) => message('C', cstr(tag));

/** NegotiateProtocolVersion: the newest minor version served (3.0) and the `_pq_.` options not understood. */
export function negotiateProtocolVersion(minor: number, unknownOptions: readonly string[]): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(unknownOptions.length);
  return message('v', Buffer.concat([int32(minor), b, ...unknownOptions.map(cstr)]));
}

export interface Notice {
  severity: 'ERROR' | 'FATAL' | 'NOTICE' | 'WARNING' | 'INFO';
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

function fields(n: Notice): Buffer {
  // Fields S (localized) and V (never localized), C, M, D, H, then the terminator.
  const parts = [Buffer.from('S'), cstr(n.severity), Buffer.from('V'), cstr(n.severity), Buffer.from('C'), cstr(n.code), Buffer.from('M'), cstr(clean(n.message))];
  if (n.detail) parts.push(Buffer.from('D'), cstr(clean(n.detail)));
  if (n.hint) parts.push(Buffer.from('H'), cstr(clean(n.hint)));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** A NUL would end the field early: what a client sees is never cut where it cannot tell. */
const clean = (s: string) => s.replaceAll('\u0000', '\uFFFD');

export const errorResponse = (n: Omit<Notice, 'severity'> & { severity?: 'ERROR' | 'FATAL' }) => message('E', fields({ severity: 'ERROR', ...n }));
export const noticeResponse = (n: Omit<Notice, 'severity'> & { severity?: Notice['severity'] }) => message('N', fields({ severity: 'NOTICE', ...n }));
