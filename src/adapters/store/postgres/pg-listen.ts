import pg from 'pg';
import type { PgConnectOptions } from './pg-connect.js';
import { clientConfig } from './pg-connect.js';

export interface PgListener {
  /** Calls `fn` with the ids of actions another (or this) replica changed, after their commit. */
  subscribe(fn: (ids: string[]) => void): () => void;
  /** Whether the LISTEN connection is up (when down, waiters rely on their slow poll). */
  connected(): boolean;
  close(): Promise<void>;
}

/**
 * One dedicated connection per replica LISTENing on the store's channel. Writers NOTIFY
 * the ids of the actions they changed in the same transaction, so a notification arrives
 * only after the change committed. When the connection drops, it reconnects with a
 * growing delay (up to 5 s); notifications sent meanwhile are lost, which the waiters'
 * slow poll covers.
 */
export function createPgListener(o: PgConnectOptions, channel: string, onError: (e: unknown) => void = () => undefined): PgListener {
  const listeners = new Set<(ids: string[]) => void>();
  let client: pg.Client | undefined;
  let up = false;
  let closed = false;
  let delay = 100;
  let timer: NodeJS.Timeout | undefined;

  const retry = () => {
    if (closed) return;
    timer = setTimeout(() => void connect(), delay);
    timer.unref();
    delay = Math.min(delay * 2, 5000);
  };

  async function connect(): Promise<void> {
    const c = new pg.Client({ ...clientConfig(o), statement_timeout: 0 });
    client = c;
    c.on('error', (e) => {
      up = false;
      onError(e);
      void c.end().catch(() => undefined);
      if (client === c) retry();
    });
    c.on('notification', (n) => {
      if (n.channel !== channel || !n.payload) return;
      const ids = n.payload.split(' ');
      for (const l of listeners) {
        try {
          l(ids);
        } catch (e) {
          onError(e);
        }
      }
    });
    try {
      await c.connect();
      await c.query(`LISTEN "${channel}"`);
      if (closed) {
        await c.end();
        return;
      }
      up = true;
      delay = 100;
    } catch (e) {
      up = false;
      onError(e);
      await c.end().catch(() => undefined);
      if (client === c) retry();
    }
  }

  void connect();
  return {
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    connected: () => up,
    async close() {
      closed = true;
      clearTimeout(timer);
      up = false;
      await client?.end().catch(() => undefined);
    },
  };
}
