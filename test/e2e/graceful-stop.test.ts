import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { startServer, startTarget, until, workspace } from './harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('a graceful stop (SIGTERM) with executions queued', () => {
  it('finishes what runs, leaves what waits for a slot approved, and the next process runs each of those once', async () => {
    // The target holds /api/hold/* requests until the test lets them go.
    const held: ServerResponse[] = [];
    const target = await startTarget((r, res) => {
      if (!r.url.startsWith('/api/hold/')) return false;
      held.push(res);
      return true;
    });
    const release = () => {
      for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    };
    const ws = workspace(target.url, { extraConfig: 'executions: { concurrency: 1 }' });
    cleanups.push(() => target.close(), () => ws.cleanup());
    let server = await startServer(ws);
    const agent = server.client(ws.tokens.agent);
    const actions = [];
    for (const n of [1, 2, 3]) actions.push(await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: `/hold/${n}` } }));
    await until(async () => held.length, (n) => n === 1);
    const [first, ...queued] = actions.map((a) => a.id);

    const exited = server.stop('SIGTERM');
    // Once the stop began (nothing starts from then on), let the running execution, which the target holds, finish.
    await until(async () => server.logs.some((l) => l.includes('"msg":"shutting down"')), (x) => x, 10_000);
    release();
    expect(await exited).toBe(0);
    expect(target.received.map((r) => r.url)).toEqual(['/api/hold/1']);

    const store = createSqliteStore({ path: join(ws.dir, 'countersign.db') });
    try {
      expect((await store.getAction(first!))!.status).toBe('succeeded');
      for (const id of queued) expect((await store.getAction(id))!.status).toBe('approved');
    } finally {
      await store.close();
    }

    // The next process takes them up, each once.
    server = await startServer(ws);
    cleanups.push(() => server.stop().then(() => undefined));
    for (const id of queued) {
      await until(async () => (release(), (await server.client(ws.tokens.agent).get(id)).status), (s) => s === 'succeeded', 15_000);
    }
    expect(target.received.map((r) => r.url).sort()).toEqual(['/api/hold/1', '/api/hold/2', '/api/hold/3']);
  });
});
