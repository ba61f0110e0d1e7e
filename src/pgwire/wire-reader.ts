import { WireProtocolError } from './wire-errors.js';

/** Reads the fields of one message body, refusing anything that runs past its end. */
export class BodyReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  byte(): number {
    this.need(1);
    return this.buf[this.at++]!;
  }

  bytes(n: number): Buffer {
    if (n < 0) throw new WireProtocolError(`invalid length ${n}`);
    this.need(n);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0) throw new WireProtocolError('invalid string in message: no terminating NUL');
    const v = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return v;
  }

  /** The message must end here: trailing bytes mean the client and the gateway disagree on its shape. */
  end(what: string): void {
    if (this.at !== this.buf.length) throw new WireProtocolError(`invalid ${what} message format`);
  }

  get remaining(): number {
    return this.buf.length - this.at;
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new WireProtocolError('insufficient data left in message');
  }
}
