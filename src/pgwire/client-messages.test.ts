import fc from 'fast-check';
import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { decodeClientMessage } from './client-messages.js';
import { decodeStartupPacket } from './startup-packet.js';
import { WireProtocolError } from './wire-errors.js';
import { FrameReader } from './wire-frame.js';

const LIMITS = { startupBytes: 10_000, messageBytes: 1024 * 1024 };

/** Frames one whole serialized message. */
function frame(buf: Buffer) {
  const r = new FrameReader(LIMITS, false);
  const out = r.push(buf);
  expect(out).toHaveLength(1);
  expect(r.buffered).toBe(0);
  return out[0]!;
}

/** Decoding either succeeds or refuses with WireProtocolError: never another exception, never a hang. */
function decodesOrRefuses(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof WireProtocolError) return true;
    throw e;
  }
}

const text = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\u0000'));

describe('the client message decoder', () => {
  it('reads back what node-postgres sends: Query, Parse, Bind, Describe, Execute, Close, Sync, Flush', () => {
    fc.assert(
      fc.property(text, text, fc.array(fc.option(text, { nil: null }), { maxLength: 8 }), fc.integer({ min: 0, max: 1000 }), (name, sql, values, rows) => {
        expect(decodeClientMessage(frame(serialize.query(sql)))).toEqual({ type: 'query', sql });
        expect(decodeClientMessage(frame(serialize.parse({ name, text: sql, types: [23, 25] })))).toEqual({ type: 'parse', name, sql, paramTypes: [23, 25] });
        const bind = decodeClientMessage(frame(serialize.bind({ portal: name, statement: name, values })));
        expect(bind).toMatchObject({ type: 'bind', portal: name, statement: name });
        expect(bind.type === 'bind' && bind.params.map((p) => (p === null ? null : p.toString('utf8')))).toEqual(values);
        expect(decodeClientMessage(frame(serialize.describe({ type: 'P', name })))).toEqual({ type: 'describe', target: 'P', name });
        expect(decodeClientMessage(frame(serialize.execute({ portal: name, rows })))).toEqual({ type: 'execute', portal: name, maxRows: rows });
        expect(decodeClientMessage(frame(serialize.close({ type: 'S', name })))).toEqual({ type: 'close', target: 'S', name });
        expect(decodeClientMessage(frame(serialize.sync()))).toEqual({ type: 'sync' });
        expect(decodeClientMessage(frame(serialize.flush()))).toEqual({ type: 'flush' });
      }),
    );
  });

  it('refuses any malformed body with a protocol error, never anything else', () => {
    fc.assert(
      fc.property(fc.constantFrom(...'QPBDECSHXpdcfFzA\u0000\u00ff'.split('').map((c) => c.charCodeAt(0))), fc.uint8Array({ maxLength: 64 }), (type, body) => {
        expect(decodesOrRefuses(() => decodeClientMessage({ type, body: Buffer.from(body) }))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses a truncated or padded real message', () => {
    fc.assert(
      fc.property(text, fc.array(fc.option(text, { nil: null }), { maxLength: 4 }), fc.integer({ min: -20, max: 20 }), (sql, values, cut) => {
        for (const m of [serialize.parse({ text: sql }), serialize.bind({ values }), serialize.describe({ type: 'S', name: sql }), serialize.execute({})]) {
          const body = m.subarray(5);
          const changed = cut < 0 ? body.subarray(0, Math.max(0, body.length + cut)) : Buffer.concat([body, Buffer.alloc(cut, 7)]);
          if (changed.length === body.length) continue;
          expect(() => decodeClientMessage({ type: m[0]!, body: changed })).toThrow(WireProtocolError);
        }
      }),
    );
  });
});

describe('the framing', () => {
  it('yields the same messages however the bytes are split', () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 10 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }), (sqls, cuts) => {
        const bytes = Buffer.concat(sqls.map((s) => serialize.query(s)));
        const r = new FrameReader(LIMITS, false);
        const got: string[] = [];
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          for (const f of r.push(bytes.subarray(at, at + n))) {
            const m = decodeClientMessage(f);
            if (m.type === 'query') got.push(m.sql);
          }
          at += n;
        }
        expect(got).toEqual(sqls);
      }),
    );
  });

  it('refuses a start-up packet claiming 1 GB as soon as its length arrives', () => {
    const r = new FrameReader(LIMITS);
    const head = Buffer.alloc(8);
    head.writeInt32BE(1024 * 1024 * 1024);
    expect(() => r.push(head)).toThrow(/invalid length of startup packet/);
  });

  it('refuses a message longer than the limit before buffering it', () => {
    const r = new FrameReader(LIMITS, false);
    const head = Buffer.from([0x51, 0x40, 0, 0, 0]);
    expect(() => r.push(head)).toThrow(/over the limit/);
  });

  it('refuses lengths below the header', () => {
    expect(() => new FrameReader(LIMITS, false).push(Buffer.from([0x51, 0, 0, 0, 3]))).toThrow(WireProtocolError);
    expect(() => new FrameReader(LIMITS).push(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0]))).toThrow(WireProtocolError);
  });

  it('never throws anything but a protocol error on random bytes', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }), (startup, chunks) => {
        const r = new FrameReader(LIMITS, startup);
        for (const c of chunks) {
          if (!decodesOrRefuses(() => r.push(Buffer.from(c)).forEach((f) => (f.type === 0 ? decodeStartupPacket(f.body) : decodeClientMessage(f))))) return false;
        }
        return true;
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the start-up packet', () => {
  const packet = (code: number, params: string[] = []) => {
    const body = Buffer.concat([Buffer.alloc(4), ...params.map((p) => Buffer.from(`${p}\u0000`)), params.length ? Buffer.from([0]) : Buffer.alloc(0)]);
    body.writeInt32BE(code);
    return body;
  };

  it('reads protocol 3.0 with its parameters', () => {
    expect(decodeStartupPacket(packet(196608, ['user', 'deploy-bot', 'database', 'shop']))).toEqual({ type: 'startup', minor: 0, params: { user: 'deploy-bot', database: 'shop' }, unknownOptions: [] });
  });

  it('serves 3.2 as 3.0 and lists the _pq_ options it does not know', () => {
    expect(decodeStartupPacket(packet(196610, ['user', 'u', '_pq_.x', '1']))).toMatchObject({ type: 'startup', minor: 2, unknownOptions: ['_pq_.x'] });
  });

  it('refuses another major version with 0A000', () => {
    for (const code of [2 << 16, 4 << 16, 1234 << 16]) {
      try {
        decodeStartupPacket(packet(code, ['user', 'u']));
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(WireProtocolError);
        expect((e as WireProtocolError).code).toBe('0A000');
        expect((e as Error).message).toMatch(/unsupported frontend protocol/);
      }
    }
  });

  it('reads SSLRequest, GSSENCRequest and CancelRequest', () => {
    expect(decodeStartupPacket(packet(80877103))).toEqual({ type: 'ssl' });
    expect(decodeStartupPacket(packet(80877104))).toEqual({ type: 'gssenc' });
    const c = Buffer.alloc(12);
    c.writeInt32BE(80877102);
    c.writeInt32BE(42, 4);
    c.writeInt32BE(-7, 8);
    expect(decodeStartupPacket(c)).toEqual({ type: 'cancel', pid: 42, key: -7 });
  });
});
