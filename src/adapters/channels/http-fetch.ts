import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Keep-alive connections to the chat services and webhook endpoints. */
const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 16 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 16 }) };

/**
 * A small `fetch` on node:http(s) with keep-alive, for the outbound calls of the delivery
 * queue: Node 20's built-in fetch costs several times the CPU per request, and these calls
 * share the cores with the gate. Enough of fetch for the Slack SDK and our own clients:
 * method, headers, a string/bytes/URLSearchParams body, an AbortSignal; redirects are
 * never followed (a 3xx is returned as is).
 */
export async function httpFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const u = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const tls = u.protocol === 'https:';
  if (!tls && u.protocol !== 'http:') throw new TypeError(`unsupported protocol ${u.protocol}`);
  const headers = new Headers(init.headers);
  let body: Buffer | undefined;
  if (typeof init.body === 'string') body = Buffer.from(init.body);
  else if (init.body instanceof URLSearchParams) {
    body = Buffer.from(init.body.toString());
    if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
  } else if (init.body instanceof Uint8Array) body = Buffer.from(init.body);
  else if (init.body != null) throw new TypeError('unsupported body type');
  if (body) headers.set('content-length', String(body.length));
  const outgoing: Record<string, string> = {};
  headers.forEach((v, k) => (outgoing[k] = v));
  return new Promise<Response>((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(u, { method: init.method ?? 'GET', headers: outgoing, agent: tls ? agents.https : agents.http, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 0;
        const noBody = status === 204 || status === 304 || (init.method ?? 'GET').toUpperCase() === 'HEAD';
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: h }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs a body and resolves with the status (the response is drained): the webhook path, without Response objects. */
export function postBody(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  return new Promise<number>((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(
      u,
      { method: 'POST', agent: tls ? agents.https : agents.http, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
