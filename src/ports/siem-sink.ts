/** Where audit events are streamed for a SIEM: a JSONL file, an HTTP collector. */
export interface SiemSink {
  /** Stable name: its delivery cursor is keyed by it. */
  readonly name: string;
  /** Delivers events in order; resolves once they are durable at the other end. Rejects on failure (retried later). */
  deliver(events: ReadonlyArray<Record<string, unknown>>): Promise<void>;
}
