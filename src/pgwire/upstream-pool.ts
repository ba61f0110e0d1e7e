import type { PostgresTargetSettings } from '../adapters/sql/postgres-settings.js';
import type { UpstreamConnection } from './upstream-connection.js';
import { connectUpstream } from './upstream-connection.js';

/**
 * Upstream connections kept per target and identity. A session takes one when it first
 * needs the database (an idle client holds none) and gives it back when it ends; a
 * connection given back outside a transaction is reset (DISCARD ALL: role, search_path,
 * prepared statements) before the next session of that identity gets it.
 */
export interface UpstreamPool {
  acquire(t: PostgresTargetSettings, identity: string): Promise<UpstreamConnection>;
  release(t: PostgresTargetSettings, identity: string, c: UpstreamConnection): void;
  /** The target's start-up parameters (server_version...), from a connection opened once. */
  parameters(t: PostgresTargetSettings, identity: string): Promise<ReadonlyMap<string, string>>;
  close(): void;
}

const DISCARD_ALL = (() => {
  const text = Buffer.from('DISCARD ALL\u0000', 'utf8');
  const b = Buffer.alloc(5 + text.length);
  b[0] = 0x51;
  b.writeInt32BE(4 + text.length, 1);
  text.copy(b, 5);
  return b;
})();

export function createUpstreamPool(opts: { idlePerKey: number; idleMs?: number }): UpstreamPool {
  const idle = new Map<string, Array<{ c: UpstreamConnection; timer: NodeJS.Timeout }>>();
  const params = new Map<string, ReadonlyMap<string, string>>();
  const idleMs = opts.idleMs ?? 30_000;
  let closed = false;
  const key = (t: PostgresTargetSettings, identity: string) => `${t.name}\u0000${identity}`;

  function park(k: string, c: UpstreamConnection) {
    const list = idle.get(k) ?? [];
    if (closed || list.length >= opts.idlePerKey) return c.destroy();
    const entry = {
      c,
      timer: setTimeout(() => {
        const l = idle.get(k);
        const i = l?.indexOf(entry) ?? -1;
        if (l && i >= 0) l.splice(i, 1);
        c.destroy();
      }, idleMs),
    };
    entry.timer.unref();
    c.listen(
      () => undefined,
      () => {
        const l = idle.get(k);
        const i = l?.indexOf(entry) ?? -1;
        if (l && i >= 0) l.splice(i, 1);
        clearTimeout(entry.timer);
      },
    );
    list.push(entry);
    idle.set(k, list);
  }

  const pool: UpstreamPool = {
    async acquire(t, identity) {
      const list = idle.get(key(t, identity));
      while (list && list.length) {
        const { c, timer } = list.pop()!;
        clearTimeout(timer);
        if (!c.closed) return c;
      }
      const c = await connectUpstream(t, 'countersign-pgwire');
      if (!params.has(t.name)) params.set(t.name, c.parameters);
      return c;
    },
    release(t, identity, c) {
      if (c.closed) return;
      if (c.status !== 'I' || opts.idlePerKey === 0 || closed) return c.destroy();
      // Reset, and park only once the reset is done: the next session starts clean.
      const k = key(t, identity);
      let done = false;
      c.listen(
        (ms) => {
          for (const m of ms) {
            if (m.type === 0x45) c.destroy();
            if (m.type === 0x5a && !done) {
              done = true;
              park(k, c);
            }
          }
        },
        () => undefined,
      );
      c.write(DISCARD_ALL);
    },
    async parameters(t, identity) {
      const known = params.get(t.name);
      if (known) return known;
      const c = await pool.acquire(t, identity);
      pool.release(t, identity, c);
      return c.parameters;
    },
    close() {
      closed = true;
      for (const list of idle.values()) {
        for (const { c, timer } of list) {
          clearTimeout(timer);
          c.destroy();
        }
      }
      idle.clear();
    },
  };
  return pool;
}
