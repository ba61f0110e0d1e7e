import type { Socket } from 'node:net';
import type { UpstreamConnection, UpstreamMessage } from './upstream-connection.js';
import type { WireField } from './row-mask.js';
import { decodeRowDescription, maskDataRow } from './row-mask.js';
import { BodyReader } from './wire-reader.js';

/** What a message sent upstream is answered with, once its last reply arrived. */
export type Expect = 'parse' | 'bind' | 'close' | 'describe' | 'execute' | 'sync' | 'query';

export interface UpstreamError {
  code: string;
  message: string;
  /** The ErrorResponse as PostgreSQL sent it. */
  raw: Buffer;
}

export interface Outcome {
  /** `skipped`: PostgreSQL discarded the message after an earlier error (until Sync). */
  status: 'ok' | 'error' | 'skipped';
  /** CommandComplete tags, in order. */
  tags: string[];
  error?: UpstreamError;
  /** The last RowDescription's fields (a Describe's, or a query's). */
  fields?: WireField[];
  /** The ReadyForQuery that ended this message reached the client (it was not held, swallowed or buffered). */
  readyRelayed?: boolean;
}

export interface SendOptions {
  /** Nothing this message gets back reaches the client (the gateway's own Describe, its abort). */
  swallow?: boolean;
  /** What this message gets back is kept here instead of relayed (until the drift check allows it). */
  buffer?: Buffer[];
  /** The ReadyForQuery ending a query is kept from the client (the session sends its own). */
  holdReady?: boolean;
  /** Columns to mask in the DataRows this message gets back (fields describe their formats). */
  mask?: { masked: readonly boolean[]; fields: readonly WireField[] };
  /** For a query: computes the mask from the RowDescription, before any row is relayed. */
  maskFromFields?: (fields: WireField[]) => Promise<boolean[]>;
  /**
   * Kept until the next message sent without `defer` (or a Flush, a Sync), and written
   * with it in one system call: a client's Bind then goes with its Execute once the
   * Execute is decided, instead of costing a round trip of its own before the decision.
   */
  defer?: boolean;
}

interface Entry extends SendOptions {
  expect: Expect;
  outcome: Outcome;
  resolve(o: Outcome): void;
}

const T = {
  ParseComplete: 0x31,
  BindComplete: 0x32,
  CloseComplete: 0x33,
  CommandComplete: 0x43,
  DataRow: 0x44,
  ErrorResponse: 0x45,
  EmptyQuery: 0x49,
  NoData: 0x6e,
  PortalSuspended: 0x73,
  ParameterDescription: 0x74,
  RowDescription: 0x54,
  ReadyForQuery: 0x5a,
} as const;

function decodeError(body: Buffer): { code: string; message: string } {
  const r = new BodyReader(body);
  let code = 'XX000';
  let message = '';
  for (;;) {
    const f = r.byte();
    if (f === 0) break;
    const v = r.cstring();
    if (f === 0x43) code = v;
    if (f === 0x4d) message = v;
  }
  return { code, message };
}

/**
 * Relays what PostgreSQL answers to the client, in order, message by message, and tells
 * the session when each message it sent upstream has had its last reply (PostgreSQL
 * answers in order, so a FIFO of what was sent says what each reply belongs to). After an
 * ErrorResponse PostgreSQL discards messages until Sync: those are resolved `skipped`.
 * When the client reads slowly, upstream is paused: rows are streamed, never piled up.
 */
export class UpstreamRelay {
  private readonly queue: Entry[] = [];
  private readonly inbox: UpstreamMessage[] = [];
  private draining = false;
  private paused = false;
  private closedError: Error | undefined;
  private closed = false;
  private last: Promise<unknown> = Promise.resolve();
  /** Messages sent with `defer`, not yet written upstream (their replies are expected in the queue already). */
  private held: Buffer[] = [];
  /**
   * An extended-protocol message failed: PostgreSQL now discards everything until Sync,
   * without a reply, so nothing that waits for one may be sent before the next Sync.
   */
  failedUntilSync = false;
  /** The client was relayed an ErrorResponse since the last ReadyForQuery (not one of the gateway's own messages' errors). */
  errorRelayed = false;

  constructor(
    private readonly client: Socket,
    readonly up: UpstreamConnection,
    private readonly onGone: (err?: Error) => void,
  ) {
    up.listen(
      (ms) => {
        for (const m of ms) this.inbox.push(m);
        if (!this.draining) void this.drain();
      },
      (err) => {
        this.closed = true;
        this.closedError = err;
        // Whatever waited for a reply will not get one.
        for (const e of this.queue.splice(0)) e.resolve({ ...e.outcome, status: 'error', error: { code: '08006', message: 'the connection to the database was lost', raw: Buffer.alloc(0) } });
        this.onGone(err);
      },
    );
  }

  get pending(): number {
    return this.queue.length;
  }

  get lost(): boolean {
    return this.closed;
  }

  /** Sends one message upstream; resolves when its last reply has come (and been relayed). */
  send(message: Buffer, expect: Expect | undefined, opts: SendOptions = {}): Promise<Outcome> {
    if (this.closed) return Promise.resolve({ status: 'error', tags: [], error: { code: '08006', message: `the connection to the database was lost${this.closedError ? `: ${this.closedError.message}` : ''}`, raw: Buffer.alloc(0) } });
    if (opts.defer) this.held.push(message);
    else {
      for (const b of this.held) this.up.write(b);
      this.held = [];
      this.up.write(message);
    }
    if (!expect) return Promise.resolve({ status: 'ok', tags: [] });
    // PostgreSQL already refused a message of this batch: it discards this one without a
    // reply (until Sync), so nothing is awaited for it.
    if (this.failedUntilSync && expect !== 'sync' && expect !== 'query') return Promise.resolve({ status: 'skipped', tags: [] });
    const p = new Promise<Outcome>((resolve) => this.queue.push({ ...opts, expect, outcome: { status: 'ok', tags: [] }, resolve }));
    this.last = p;
    return p;
  }

  /** Resolves once every message sent so far has had its last reply. */
  async idle(): Promise<void> {
    await this.last;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    this.client.cork();
    try {
      while (this.inbox.length) {
        const m = this.inbox.shift()!;
        const wait = this.handle(m);
        if (wait) {
          this.client.uncork();
          await wait;
          this.client.cork();
        }
      }
    } finally {
      this.client.uncork();
      this.draining = false;
    }
  }

  private forward(buf: Buffer, head: Entry | undefined): void {
    if (head?.swallow || this.client.destroyed) return;
    if (head?.buffer) {
      head.buffer.push(buf);
      return;
    }
    if (!this.client.write(buf) && !this.paused) {
      this.paused = true;
      this.up.pause();
      this.client.once('drain', () => {
        this.paused = false;
        this.up.resume();
      });
    }
  }

  private finish(e: Entry): void {
    this.queue.shift();
    e.resolve(e.outcome);
  }

  /** Handles one reply; returns a promise when relaying must wait (a mask being looked up). */
  private handle(m: UpstreamMessage): Promise<void> | undefined {
    const head = this.queue[0];
    switch (m.type) {
      case T.ParseComplete:
      case T.BindComplete:
      case T.CloseComplete:
        this.forward(m.raw, head);
        if (head) this.finish(head);
        return undefined;
      case T.ParameterDescription:
        this.forward(m.raw, head);
        return undefined;
      case T.NoData:
        this.forward(m.raw, head);
        if (head?.expect === 'describe') this.finish(head);
        return undefined;
      case T.RowDescription: {
        if (head) head.outcome.fields = decodeRowDescription(m.body);
        if (head?.expect === 'describe') {
          this.forward(m.raw, head);
          this.finish(head);
          return undefined;
        }
        if (head?.maskFromFields) {
          const fields = head.outcome.fields!;
          return head.maskFromFields(fields).then(
            (masked) => {
              head.mask = masked.some(Boolean) ? { masked, fields } : undefined;
              this.forward(m.raw, head);
            },
            () => {
              // Fail closed: when the mask cannot be worked out, every column is masked.
              head.mask = { masked: fields.map(() => true), fields };
              this.forward(m.raw, head);
            },
          );
        }
        if (head) head.mask = undefined;
        this.forward(m.raw, head);
        return undefined;
      }
      case T.DataRow:
        this.forward(head?.mask ? maskDataRow(m.body, head.mask.masked, head.mask.fields) : m.raw, head);
        return undefined;
      case T.CommandComplete:
      case T.EmptyQuery:
      case T.PortalSuspended:
        this.forward(m.raw, head);
        if (head && m.type === T.CommandComplete) head.outcome.tags.push(m.body.toString('utf8', 0, Math.max(0, m.body.length - 1)));
        if (head?.expect === 'execute') this.finish(head);
        return undefined;
      case T.ErrorResponse: {
        this.forward(m.raw, head);
        if (!head?.swallow && !head?.buffer) this.errorRelayed = true;
        const error = { ...decodeError(m.body), raw: m.raw };
        if (!head) return undefined;
        head.outcome.status = 'error';
        head.outcome.error = error;
        if (head.expect === 'query' || head.expect === 'sync') return undefined;
        this.failedUntilSync = true;
        this.finish(head);
        // Discarded until Sync.
        while (this.queue.length && this.queue[0]!.expect !== 'sync' && this.queue[0]!.expect !== 'query') {
          const e = this.queue.shift()!;
          e.resolve({ ...e.outcome, status: 'skipped' });
        }
        return undefined;
      }
      case T.ReadyForQuery:
        this.failedUntilSync = false;
        this.errorRelayed = false;
        if (!head?.holdReady) {
          this.forward(m.raw, head);
          if (head && !head.swallow && !head.buffer && !this.client.destroyed) head.outcome.readyRelayed = true;
        }
        if (head && (head.expect === 'sync' || head.expect === 'query')) this.finish(head);
        return undefined;
      default:
        // Notices, ParameterStatus, notifications, COPY data: relayed as they are.
        this.forward(m.raw, head);
        return undefined;
    }
  }
}
