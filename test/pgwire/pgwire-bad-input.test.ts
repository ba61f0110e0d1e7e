import type { Socket } from 'node:net';
import { connect } from 'node:net';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireEnv } from './pgwire-harness.js';
import { conninfo, pgClient, psql, startWireEnv } from './pgwire-harness.js';

let env: WireEnv;
/** A session opened before the abuse: it must keep working through all of it. */
let bystander: pg.Client;
beforeAll(async () => {
  env = await startWireEnv();
  bystander = pgClient(env, 'deploy-bot', env.ws.tokens.agent);
  await bystander.connect();
});
afterAll(async () => {
  await bystander?.end().catch(() => undefined);
  await env?.close();
});

/** Sends bytes on a fresh connection and collects what the server answers until it closes. */
function exchange(bytes: Buffer, timeoutMs = 5000): Promise<{ reply: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect(env.port, env.host, () => s.write(bytes));
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ reply: Buffer.concat(chunks), closed: false });
    }, timeoutMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks), closed: true });
    });
  });
}

/** SQLSTATE and message of an ErrorResponse at the start of `reply`. */
function errorIn(reply: Buffer): { severity: string; code: string; message: string } {
  expect(String.fromCharCode(reply[0]!)).toBe('E');
  const fields: Record<string, string> = {};
  let at = 5;
  while (reply[at] !== 0 && at < reply.length) {
    const f = String.fromCharCode(reply[at]!);
    const end = reply.indexOf(0, at + 1);
    fields[f] = reply.toString('utf8', at + 1, end);
    at = end + 1;
  }
  return { severity: fields.S ?? '', code: fields.C ?? '', message: fields.M ?? '' };
}

const startup = (code: number, params: Record<string, string>) => {
  const body = Buffer.concat([Buffer.alloc(4), ...Object.entries(params).map(([k, v]) => Buffer.from(`${k}\u0000${v}\u0000`)), Buffer.from([0])]);
  body.writeInt32BE(code);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4);
  return Buffer.concat([len, body]);
};

async function bystanderWorks(): Promise<void> {
  expect((await bystander.query('SELECT plan FROM customers WHERE id = 4')).rows).toEqual([{ plan: 'pro' }]);
}

describe('bad input on the wire', () => {
  it('refuses a start-up packet claiming 1 GB at once (08P01) and closes', async () => {
    const head = Buffer.alloc(8);
    head.writeInt32BE(1024 * 1024 * 1024);
    head.writeInt32BE(196608, 4);
    const r = await exchange(head);
    expect(r.closed).toBe(true);
    const e = errorIn(r.reply);
    expect([e.severity, e.code]).toEqual(['FATAL', '08P01']);
    expect(e.message).toContain('invalid length of startup packet');
    await bystanderWorks();
  });

  it('refuses unknown protocol versions with 0A000', async () => {
    for (const major of [1, 2, 4]) {
      const r = await exchange(startup(major << 16, { user: 'deploy-bot', database: 'shop' }));
      expect(r.closed).toBe(true);
      const e = errorIn(r.reply);
      expect([e.severity, e.code]).toEqual(['FATAL', '0A000']);
      expect(e.message).toContain(`unsupported frontend protocol ${major}.0`);
    }
    await bystanderWorks();
  });

  it('serves protocol 3.2 as 3.0: NegotiateProtocolVersion, then authentication', async () => {
    const r = await exchange(startup((3 << 16) | 2, { user: 'deploy-bot', database: 'shop', '_pq_.future': 'on' }), 1000);
    expect(String.fromCharCode(r.reply[0]!)).toBe('v');
    // The newest minor version served (0), and the one option not understood.
    expect(r.reply.readInt32BE(5)).toBe(0);
    expect(r.reply.readInt32BE(9)).toBe(1);
    expect(r.reply.toString('utf8', 13, 13 + '_pq_.future'.length)).toBe('_pq_.future');
    const next = r.reply.subarray(1 + r.reply.readInt32BE(1));
    expect(String.fromCharCode(next[0]!)).toBe('R');
  });

  it('closes a connection that speaks HTTP instead', async () => {
    const r = await exchange(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(r.closed).toBe(true);
    expect(errorIn(r.reply).code).toBe('08P01');
    await bystanderWorks();
  });

  it('ends a session that sends a malformed message (08P01), and only that session', async () => {
    for (const bad of [
      Buffer.from([0x42, 0, 0, 0, 6, 0xff, 0xff]), // Bind with strings never terminated
      Buffer.from([0x7a, 0, 0, 0, 4]), // no such message type
      Buffer.from([0x51, 0x40, 0, 0, 0]), // a Query claiming 1 GB
      Buffer.from([0x50, 0, 0, 0, 8, 0, 0, 0xff, 0xff]), // Parse with a negative count
    ]) {
      const c = pgClient(env, 'deploy-bot', env.ws.tokens.agent);
      await c.connect();
      const ended = new Promise<Error | undefined>((resolve) => {
        c.on('error', (e) => resolve(e));
        c.on('end', () => resolve(undefined));
      });
      const stream = (c as unknown as { connection: { stream: Socket } }).connection.stream;
      stream.write(bad);
      const e: (Error & { code?: string }) | undefined = await ended;
      expect(e?.code).toBe('08P01');
      await bystanderWorks();
    }
  });

  it('holds a flood of idle connections up to maxConnections, refuses the next with 53300, and recovers', async () => {
    const flood: Socket[] = [];
    try {
      // 300 is the configured maximum; the bystander holds one.
      for (let i = 0; i < 299; i++) {
        flood.push(await new Promise<Socket>((resolve) => {
          const s = connect(env.port, env.host, () => resolve(s));
          s.on('error', () => undefined);
        }));
      }
      const refused = await exchange(startup(196608, { user: 'deploy-bot', database: 'shop' }));
      expect(errorIn(refused.reply)).toMatchObject({ severity: 'FATAL', code: '53300' });
      await bystanderWorks();
    } finally {
      for (const s of flood) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 300));
    const r = await psql(env, [conninfo(env, 'deploy-bot'), '-At', '-c', 'SELECT plan FROM customers WHERE id = 8'], env.ws.tokens.agent);
    expect(r.stdout).toBe('pro\n');
    await bystanderWorks();
  });
});
