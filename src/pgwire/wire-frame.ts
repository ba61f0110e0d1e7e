import { WireProtocolError } from './wire-errors.js';

/** One message as framed on the wire: its type byte (0 for the untyped start-up packet) and its body. */
export interface Frame {
  type: number;
  body: Buffer;
}

/**
 * Splits a byte stream into PostgreSQL messages: `type:u8 length:i32 body` after
 * start-up, `length:i32 body` for the start-up packet (SSLRequest, CancelRequest,
 * StartupMessage). The length is checked as soon as its four bytes arrive, so a client
 * claiming a 1 GB message is refused at once instead of being buffered (PostgreSQL caps
 * the start-up packet at 10,000 bytes the same way).
 *
 * Written by hand: pg-protocol frames only server messages, and pg-gateway's framing
 * buffers whatever length a client claims.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly limits: { startupBytes: number; messageBytes: number },
    /** True while the next message is the untyped start-up packet. */
    public startup = true,
  ) {}

  /** Bytes received but not yet part of a whole message. */
  get buffered(): number {
    return this.size;
  }

  /** Adds bytes and returns the whole messages they complete; throws WireProtocolError on a bad length. */
  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    const out: Frame[] = [];
    for (;;) {
      const f = this.next();
      if (!f) return out;
      out.push(f);
      // After the start-up packet (or an SSLRequest answered 'S'/'N', whose caller sets it back) messages are typed.
      if (f.type === 0) return out;
    }
  }

  /** Takes the bytes received after the start-up packet out (a TLS handshake must see them). */
  drain(): Buffer {
    const all = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    return all;
  }

  private next(): Frame | undefined {
    const header = this.startup ? 4 : 5;
    if (this.size < header) return undefined;
    const head = this.peek(header);
    const type = this.startup ? 0 : head[0]!;
    const length = head.readInt32BE(this.startup ? 0 : 1);
    const max = this.startup ? this.limits.startupBytes : this.limits.messageBytes;
    if (length < 4) throw new WireProtocolError(`invalid message length ${length}`);
    if (this.startup && length < 8) throw new WireProtocolError(`invalid length of startup packet (${length} bytes)`);
    if (length > max) {
      throw new WireProtocolError(this.startup ? `invalid length of startup packet (${length} bytes; at most ${max})` : `message of ${length} bytes is over the limit of ${max} bytes`);
    }
    const total = length + (this.startup ? 0 : 1);
    if (this.size < total) return undefined;
    const whole = this.take(total);
    return { type, body: whole.subarray(header) };
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const joined = Buffer.concat(this.chunks, this.size);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    let first = this.chunks[0]!;
    if (first.length < n) {
      first = Buffer.concat(this.chunks, this.size);
      this.chunks = [first];
    }
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.size -= n;
    return out;
  }
}
