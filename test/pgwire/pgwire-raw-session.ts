import { createRequire } from 'node:module';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

// A wire session on a raw socket, logged in with SCRAM-SHA-256 (node-postgres's own SCRAM
// client does the proof), for tests that send bytes no driver would: every backend
// message the gateway sends is kept, framed, so a test can check each one.

const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as {
  startSession(mechanisms: string[]): { response: string };
  continueSession(session: object, password: string, serverData: string): Promise<void>;
  finalizeSession(session: object, serverData: string): void;
};

export interface BackendMessage {
  type: string;
  body: Buffer;
}

export function frame(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

export const cstr = (s: string | Buffer) => Buffer.concat([typeof s === 'string' ? Buffer.from(s, 'utf8') : s, Buffer.from([0])]);
export const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n << 16 >> 16);
  return b;
};
export const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n | 0);
  return b;
};

/** The fields of an ErrorResponse or NoticeResponse (S severity, C SQLSTATE, M message...). */
export function fieldsOf(m: BackendMessage): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < m.body.length && m.body[at] !== 0) {
    const end = m.body.indexOf(0, at + 1);
    if (end < 0) break;
    out[String.fromCharCode(m.body[at]!)] = m.body.toString('utf8', at + 1, end);
    at = end + 1;
  }
  return out;
}

export class RawSession {
  readonly messages: BackendMessage[] = [];
  closed = false;
  /** Bytes that did not frame as backend messages (a length under 4): must stay empty. */
  garbage = Buffer.alloc(0);
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, c]);
      while (this.buffer.length >= 5) {
        const len = this.buffer.readInt32BE(1);
        if (len < 4) {
          this.garbage = this.buffer;
          this.buffer = Buffer.alloc(0);
          break;
        }
        if (this.buffer.length < 1 + len) break;
        this.messages.push({ type: String.fromCharCode(this.buffer[0]!), body: this.buffer.subarray(5, 1 + len) });
        this.buffer = this.buffer.subarray(1 + len);
      }
      this.wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  /** Waits until `ok` holds for the messages so far, the socket closes, or the time is up. */
  async until(ok: (ms: BackendMessage[]) => boolean, timeoutMs: number): Promise<'ok' | 'closed' | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (ok(this.messages)) return 'ok';
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Opens a session and logs in with SCRAM-SHA-256; resolves once the gateway says ReadyForQuery. */
export async function openRawSession(host: string, port: number, user: string, password: string, database: string): Promise<RawSession> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(port, host, () => resolve(s));
    s.once('error', reject);
  });
  const session = new RawSession(socket);
  const params = Buffer.concat([cstr('user'), cstr(user), cstr('database'), cstr(database), Buffer.from([0])]);
  const startup = Buffer.concat([int32(params.length + 8), int32(196608), params]);
  session.write(startup);
  const auth = async (code: number): Promise<Buffer> => {
    const r = await session.until((ms) => ms.some((m) => m.type === 'R' && m.body.readInt32BE(0) === code) || ms.some((m) => m.type === 'E'), 10_000);
    const m = session.messages.find((x) => x.type === 'R' && x.body.readInt32BE(0) === code);
    if (r !== 'ok' || !m) throw new Error(`login failed waiting for authentication ${code}: ${JSON.stringify(session.messages.map((x) => [x.type, fieldsOf(x)]))}`);
    return m.body.subarray(4);
  };
  await auth(10);
  const scram = sasl.startSession(['SCRAM-SHA-256']);
  const first = Buffer.from(scram.response, 'utf8');
  session.write(frame('p', Buffer.concat([cstr('SCRAM-SHA-256'), int32(first.length), first])));
  await sasl.continueSession(scram, password, (await auth(11)).toString('utf8'));
  session.write(frame('p', Buffer.from(scram.response, 'utf8')));
  sasl.finalizeSession(scram, (await auth(12)).toString('utf8'));
  if ((await session.until((ms) => ms.some((m) => m.type === 'Z'), 10_000)) !== 'ok') throw new Error('no ReadyForQuery after login');
  session.messages.length = 0;
  return session;
}
