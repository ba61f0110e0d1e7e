import type { HttpInput, HttpMethod } from '../../domain/action.js';

/**
 * The agent's headers, then the target's injected headers on top: a target header
 * replaces an agent header of the same name whatever its case, so an agent can never
 * swap in its own credential.
 */
export function buildRequestHeaders(agent: HttpInput['headers'], injected: ReadonlyArray<readonly [string, string]>): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(agent ?? {})) h.set(k, v);
  for (const [k, v] of injected) h.set(k, v);
  return h;
}

/**
 * The bytes to send. GET and HEAD never carry one; absent and null mean none; strings
 * go as they are (fetch labels them text/plain unless a content-type is set); anything
 * else is JSON, labelled application/json unless a content-type is set.
 */
export function encodeBody(method: HttpMethod, body: unknown, headers: Headers): string | undefined {
  if (method === 'GET' || method === 'HEAD') return undefined;
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return JSON.stringify(body);
}

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * The request after a followed redirect, as the Fetch standard does it: 303 (and 301/302
 * after POST) become a GET without body; 307 and 308 keep the method and the body.
 */
export function afterRedirect(status: number, method: HttpMethod, body: string | undefined, headers: Headers): { method: HttpMethod; body: string | undefined } {
  const toGet = (status === 303 && method !== 'GET' && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST');
  if (!toGet) return { method, body };
  headers.delete('content-type');
  return { method: 'GET', body: undefined };
}
