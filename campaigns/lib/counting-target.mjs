// The campaigns' target: a real HTTP server that counts every call it receives, by
// path, across gateway restarts. `onRequest` may hold the answer (to kill the gateway
// while an execution is in flight).
import { createServer } from 'node:http';

export async function startCountingTarget(opts = {}) {
  const calls = new Map();
  const log = [];
  const sockets = new Set();
  let onRequest = opts.onRequest;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const path = (req.url ?? '').split('?')[0];
      calls.set(path, (calls.get(path) ?? 0) + 1);
      const r = { method: req.method, path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      log.push(r);
      try {
        if (onRequest) await onRequest(r);
      } catch {
        // a hook's failure is the campaign's business, not the target's
      }
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, path }));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    calls,
    log,
    setOnRequest(fn) {
      onRequest = fn;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
