import pg from 'pg';
import { serialize } from 'pg-protocol';
import type { Queryable } from '../adapters/sql/postgres-catalog.js';
import type { WireField } from './row-mask.js';
import { decodeRowDescription } from './row-mask.js';
import type { Outcome, UpstreamRelay } from './upstream-relay.js';
import { BodyReader } from './wire-reader.js';

/** The gateway's own statement and portal: named, so the client's unnamed ones are left as they are. */
const NAME = 'countersign_internal';

/**
 * The gateway's own queries on a session's upstream connection, inside the client's
 * transaction (the drift check's catalog and row-counter reads): nothing they get back
 * reaches the client, values are parsed as node-postgres parses them (the same figures
 * as the `sql` executor's). In a simple-protocol session they go as a Query; in an
 * extended-protocol batch as named Parse/Bind/Execute before the client's Sync, since a
 * Query there would end the batch's implicit transaction.
 */
export function upstreamQueryable(relay: UpstreamRelay, mode: 'query' | 'extended'): Queryable {
  return {
    async query(sql) {
      const buffer: Buffer[] = [];
      let fields: WireField[] | undefined;
      let out: Outcome;
      if (mode === 'query') {
        out = await relay.send(serialize.query(sql), 'query', { buffer, holdReady: true });
      } else {
        const steps = [
          relay.send(serialize.parse({ name: NAME, text: sql }), 'parse', { swallow: true }),
          relay.send(serialize.bind({ statement: NAME, portal: NAME }), 'bind', { swallow: true }),
          relay.send(serialize.describe({ type: 'P', name: NAME }), 'describe', { swallow: true }),
        ];
        const executed = relay.send(serialize.execute({ portal: NAME }), 'execute', { buffer });
        // Both closed at once: a named portal would otherwise live until the transaction ends.
        steps.push(relay.send(serialize.close({ type: 'P', name: NAME }), 'close', { swallow: true }));
        steps.push(relay.send(serialize.close({ type: 'S', name: NAME }), 'close', { swallow: true }));
        void relay.send(serialize.flush(), undefined);
        const done = await Promise.all(steps);
        out = await executed;
        fields = done[2]!.fields;
        const failed = [...done, out].find((o) => o.status !== 'ok');
        if (failed) out = failed;
      }
      if (out.status !== 'ok') throw new Error(out.error?.message ?? 'the statement was skipped after an earlier error');
      const rows: Array<Record<string, unknown>> = [];
      for (const m of buffer) {
        const body = m.subarray(5);
        if (m[0] === 0x54) fields = decodeRowDescription(body);
        else if (m[0] === 0x44 && fields) rows.push(decodeRow(body, fields));
      }
      return { rows };
    },
  };
}

function decodeRow(body: Buffer, fields: readonly WireField[]): Record<string, unknown> {
  const r = new BodyReader(body);
  const n = r.int16();
  const row: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    const f = fields[i]!;
    const parse = pg.types.getTypeParser(f.typeID, 'text') as (text: string) => unknown;
    row[f.name] = len < 0 ? null : parse(r.bytes(len).toString('utf8'));
  }
  return row;
}
