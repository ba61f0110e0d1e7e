import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { json } from './http-fake.js';

/**
 * A fake of Slack's Socket Mode (https://api.slack.com/apis/socket-mode): `apps.connections.open`
 * (slack-fake.ts) with the app-level token returns a WebSocket URL of this server; on connect it sends `hello`;
 * interactions arrive as `{envelope_id, type: "interactive", payload}` envelopes and the app
 * acknowledges each with `{envelope_id, payload?}`. The WebSocket side is a minimal RFC 6455
 * server (text frames, ping/pong, close), enough for the official client.
 */
export async function startSlackSocketFake() {
  const sockets = new Set<Socket>();
  const acks = new Map<string, (payload: unknown) => void>();
  const received: unknown[] = [];
  let connected: (() => void) | undefined;
  const ready = new Promise<void>((r) => (connected = r));

  function frame(opcode: number, data: Buffer): Buffer {
    const len = data.length;
    const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 255]) : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
    return Buffer.concat([head, data]);
  }

  // apps.connections.open is answered by the Web API fake (slack-fake.ts), with url() below.
  const server = createServer((_req, res) => json(res, 404, { ok: false, error: 'not_found' }));

  server.on('upgrade', (req, socket: Socket) => {
    const key = req.headers['sec-websocket-key'];
    if (!req.url?.startsWith('/link/') || typeof key !== 'string') return socket.destroy();
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => sockets.delete(socket));
    const ping = setInterval(() => socket.writable && socket.write(frame(0x9, Buffer.from('ping'))), 2000);
    socket.on('close', () => clearInterval(ping));
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        const masked = (buf[1]! & 0x80) !== 0;
        const mask = masked ? buf.subarray(off, off + 4) : undefined;
        if (masked) off += 4;
        if (buf.length < off + len) return;
        const data = Buffer.from(buf.subarray(off, off + len));
        if (mask) for (let i = 0; i < data.length; i++) data[i]! ^= mask[i % 4]!;
        buf = buf.subarray(off + len);
        if (opcode === 0x9) socket.write(frame(0xa, data));
        else if (opcode === 0x8) socket.end(frame(0x8, Buffer.alloc(0)));
        else if (opcode === 0x1) {
          const msg = JSON.parse(data.toString('utf8')) as { envelope_id?: string; payload?: unknown };
          received.push(msg);
          if (msg.envelope_id) acks.get(msg.envelope_id)?.(msg.payload);
        }
      }
    });
    socket.write(frame(0x1, Buffer.from(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake' }, connection_info: { app_id: 'A0123' } }))));
    connected?.();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    /** A fresh connection URL, as apps.connections.open returns one. */
    url: () => `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link/?ticket=${randomUUID()}`,
    ready,
    received,
    /** Sends an interaction envelope and resolves with the app's acknowledgement. */
    interactive(payload: Record<string, unknown>): Promise<unknown> {
      const envelopeId = randomUUID();
      const acked = new Promise<unknown>((resolve) => acks.set(envelopeId, resolve));
      const text = JSON.stringify({ envelope_id: envelopeId, type: 'interactive', payload, accepts_response_payload: true });
      for (const s of sockets) s.write(frame(0x1, Buffer.from(text)));
      return acked;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
