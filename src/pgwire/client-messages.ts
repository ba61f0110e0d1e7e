import type { Frame } from './wire-frame.js';
import { SQLSTATE, WireProtocolError } from './wire-errors.js';
import { BodyReader } from './wire-reader.js';

/**
 * The client's messages after start-up, decoded (protocol 3.0, "Message Formats" in
 * PostgreSQL's manual). Written by hand, and fuzzed: pg-protocol parses only what the
 * server sends, and pg-gateway hands the extended-protocol messages over raw.
 */
export type ClientMessage =
  | { type: 'query'; sql: string }
  | { type: 'parse'; name: string; sql: string; paramTypes: number[] }
  | { type: 'bind'; portal: string; statement: string; paramFormats: number[]; params: Array<Buffer | null>; resultFormats: number[] }
  | { type: 'describe'; target: 'S' | 'P'; name: string }
  | { type: 'execute'; portal: string; maxRows: number }
  | { type: 'close'; target: 'S' | 'P'; name: string }
  | { type: 'sync' }
  | { type: 'flush' }
  | { type: 'terminate' }
  | { type: 'password'; body: Buffer }
  /** COPY data, function calls: understood, refused by the session. */
  | { type: 'unsupported'; what: string };

const CODE = {
  Q: 0x51,
  P: 0x50,
  B: 0x42,
  D: 0x44,
  E: 0x45,
  C: 0x43,
  S: 0x53,
  H: 0x48,
  X: 0x58,
  p: 0x70,
  d: 0x64,
  c: 0x63,
  f: 0x66,
  F: 0x46,
} as const;

/** At most this many parameters or formats in one message, as PostgreSQL (an int16 count). */
const MAX_COUNT = 65535;

function count(r: BodyReader, what: string): number {
  const n = r.int16();
  if (n < 0 || n > MAX_COUNT) throw new WireProtocolError(`invalid ${what} count ${n}`);
  return n;
}

function formats(r: BodyReader, what: string): number[] {
  const n = count(r, what);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = r.int16();
    if (f !== 0 && f !== 1) throw new WireProtocolError(`unsupported format code: ${f}`, SQLSTATE.PROTOCOL_VIOLATION);
    out.push(f);
  }
  return out;
}

function target(r: BodyReader, what: string): 'S' | 'P' {
  const t = r.byte();
  if (t === 0x53) return 'S';
  if (t === 0x50) return 'P';
  throw new WireProtocolError(`invalid ${what} message subtype ${t}`);
}

/** Decodes one framed client message; throws WireProtocolError on anything malformed. */
export function decodeClientMessage(frame: Frame): ClientMessage {
  const r = new BodyReader(frame.body);
  switch (frame.type) {
    case CODE.Q: {
      const sql = r.cstring();
      r.end('Query');
      return { type: 'query', sql };
    }
    case CODE.P: {
      const name = r.cstring();
      const sql = r.cstring();
      const n = count(r, 'parameter type');
      const paramTypes: number[] = [];
      for (let i = 0; i < n; i++) paramTypes.push(r.int32() >>> 0);
      r.end('Parse');
      return { type: 'parse', name, sql, paramTypes };
    }
    case CODE.B: {
      const portal = r.cstring();
      const statement = r.cstring();
      const paramFormats = formats(r, 'parameter format');
      const n = count(r, 'parameter');
      if (paramFormats.length > 1 && paramFormats.length !== n) {
        throw new WireProtocolError(`bind message has ${paramFormats.length} parameter formats but ${n} parameters`);
      }
      const params: Array<Buffer | null> = [];
      for (let i = 0; i < n; i++) {
        const len = r.int32();
        if (len < -1) throw new WireProtocolError(`invalid parameter length ${len}`);
        params.push(len === -1 ? null : r.bytes(len));
      }
      const resultFormats = formats(r, 'result format');
      r.end('Bind');
      return { type: 'bind', portal, statement, paramFormats, params, resultFormats };
    }
    case CODE.D: {
      const t = target(r, 'Describe');
      const name = r.cstring();
      r.end('Describe');
      return { type: 'describe', target: t, name };
    }
    case CODE.E: {
      const portal = r.cstring();
      const maxRows = r.int32();
      r.end('Execute');
      return { type: 'execute', portal, maxRows: Math.max(0, maxRows) };
    }
    case CODE.C: {
      const t = target(r, 'Close');
      const name = r.cstring();
      r.end('Close');
      return { type: 'close', target: t, name };
    }
    case CODE.S:
      r.end('Sync');
      return { type: 'sync' };
    case CODE.H:
      r.end('Flush');
      return { type: 'flush' };
    case CODE.X:
      return { type: 'terminate' };
    case CODE.p:
      return { type: 'password', body: frame.body };
    case CODE.d:
    case CODE.c:
    case CODE.f:
      return { type: 'unsupported', what: 'COPY' };
    case CODE.F:
      return { type: 'unsupported', what: 'the function call protocol' };
    default:
      throw new WireProtocolError(`invalid frontend message type ${frame.type}`);
  }
}

/** Text of a parameter for policy and the action's input: text format as sent, binary refused by the caller. */
export function textParam(p: Buffer | null): string | null {
  return p === null ? null : p.toString('utf8');
}
