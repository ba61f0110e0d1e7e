import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpSink } from '../adapters/siem/http-sink.js';
import { createJsonlSink } from '../adapters/siem/jsonl-sink.js';
import type { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import type { SiemFormat } from '../domain/siem-events.js';
import type { SiemSink } from '../ports/siem-sink.js';
import { createSiemService } from './siem-service.js';

let dir: string;
let store: SqliteStore;
const clock = { now: () => new Date() };
const entry = (i: number) => ({ type: 'policy.loaded' as const, ts: new Date().toISOString(), data: { version: `v${i}` } });
const errors: unknown[] = [];
const service = (sinks: Array<{ sink: SiemSink; format: SiemFormat; batchSize: number }>, instance = 'p1') =>
  createSiemService({ store, log: store, sinks, context: { origin: 'audit.test/log', version: 't' }, clock, instance, onError: (e) => errors.push(e) });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-siem-'));
  store = createSqliteStore({ path: join(dir, 'c.db'), writer: 'inline' });
  errors.length = 0;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : []);

describe('SIEM streaming', () => {
  it('writes every entry once, in order, and a restart resumes from the last delivered one', async () => {
    const file = join(dir, 'out', 'ocsf.jsonl');
    await store.appendAudit([0, 1, 2, 3, 4].map(entry));
    await service([{ sink: createJsonlSink('f', file), format: 'ocsf', batchSize: 2 }]).tick();
    expect(lines(file).map((e) => (e.metadata as { sequence: number }).sequence)).toEqual([0, 1, 2, 3, 4]);
    await store.appendAudit([5, 6].map(entry));
    // Another process (a restart): same cursor, same lease owner gone stale is not needed here.
    await service([{ sink: createJsonlSink('f', file), format: 'ocsf', batchSize: 2 }]).tick();
    expect(lines(file).map((e) => (e.metadata as { sequence: number }).sequence)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(await store.cursor('siem:f')).toBe(7);
  });

  it('a failing endpoint keeps its place and catches up later; it never holds up another sink', async () => {
    let up = false;
    const got: Array<{ type: string; ids: string[] }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (!up) return void res.writeHead(503).end();
        got.push({ type: String(req.headers['content-type']), ids: (JSON.parse(Buffer.concat(chunks).toString()) as Array<{ id: string }>).map((e) => e.id) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const file = join(dir, 'ce.jsonl');
      const sinks = [
        { sink: createHttpSink({ name: 'h', url, format: 'cloudevents', headers: { authorization: 'Bearer x' }, timeoutMs: 2000 }), format: 'cloudevents' as const, batchSize: 3 },
        { sink: createJsonlSink('f', file), format: 'cloudevents' as const, batchSize: 3 },
      ];
      await store.appendAudit([0, 1, 2, 3].map(entry));
      await service(sinks).tick();
      expect(errors).toHaveLength(1);
      expect(lines(file)).toHaveLength(4);
      expect(await store.cursor('siem:h')).toBe(0);
      up = true;
      await service(sinks).tick();
      expect(got.flatMap((g) => g.ids)).toEqual([0, 1, 2, 3].map((i) => `audit.test/log/${i}`));
      expect(got.every((g) => g.type === 'application/cloudevents-batch+json')).toBe(true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('one process at a time delivers to a sink', async () => {
    const file = join(dir, 'x.jsonl');
    await store.appendAudit([0, 1].map(entry));
    await service([{ sink: createJsonlSink('f', file), format: 'ocsf', batchSize: 10 }], 'p1').tick();
    await store.appendAudit([2].map(entry));
    await service([{ sink: createJsonlSink('f', file), format: 'ocsf', batchSize: 10 }], 'p2').tick();
    expect(lines(file)).toHaveLength(2); // p1 holds the lease
  });
});
