import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';

export interface SampleTarget {
  url: string;
  /** Requests that reached the target, in order. */
  received: Array<{ method: string; path: string; authenticated: boolean }>;
  close(): Promise<void>;
}

/**
 * A small GitHub-like API for the demo: it only answers callers that present the
 * credential the gateway holds, so the demo shows the agent never needed it.
 */
export async function startSampleTarget(token: string): Promise<SampleTarget> {
  const received: SampleTarget['received'] = [];
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const auth = Buffer.from(req.headers.authorization ?? '');
      const authenticated = auth.length === expected.length && timingSafeEqual(auth, expected);
      const path = (req.url ?? '/').split('?')[0]!;
      received.push({ method: req.method ?? '', path, authenticated });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (!authenticated) return send(401, { message: 'Bad credentials' });
      const m = /^\/repos\/([^/]+)\/([^/]+)(\/releases)?$/.exec(path);
      if (!m) return send(404, { message: 'Not Found' });
      if (req.method === 'GET' && !m[3]) return send(200, { full_name: `${m[1]}/${m[2]}`, default_branch: 'main', open_issues: 3 });
      if (req.method === 'POST' && m[3]) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { tag_name?: string };
        return send(201, { id: 1, tag_name: body.tag_name ?? 'v0.0.0', html_url: `https://example.invalid/${m[1]}/${m[2]}/releases/1` });
      }
      if (req.method === 'DELETE') return send(204, {});
      return send(405, { message: 'Method Not Allowed' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
