import { CountersignError, CountersignUnavailableError } from './errors.js';
import type { CountersignErrorCode } from './errors.js';
import type { GuardOptions } from './guard.js';
import { guard } from './guard.js';
import { isSettled } from './settled.js';
import type { Action, ActionPage, Receipt, Status, SubmitRequest, WaitOptions } from './types.js';
import { grantsApi } from './grants-api.js';
import type { GrantsApi } from './grants-api.js';

export { isSettled };
export type { WaitOptions };

export interface ClientOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /** The agent's (or human's) bearer token. */
  token: string;
  fetch?: typeof fetch;
  userAgent?: string;
}

export interface CountersignClient {
  /**
   * `waitSeconds`: the gateway answers once the action settles or that time passes; an
   * allowed execute-mode action then runs within the same request (one round trip).
   */
  submit(req: SubmitRequest, opts?: { idempotencyKey?: string; waitSeconds?: number }): Promise<Action>;
  get(id: string): Promise<Action>;
  wait(id: string, opts?: WaitOptions): Promise<Action>;
  list(q?: { status?: Status[]; limit?: number; cursor?: string }): Promise<ActionPage>;
  /** `grant`: also approve future actions like this one for `ttl` and `uses`, within the policy's bounds (docs/policy.md). */
  approve(id: string, fingerprint: string, comment?: string, opts?: { grant?: { ttl: string; uses: number; path?: string } }): Promise<Action>;
  /** Standing grants, batch reviews (issue 17): see docs/api.md. */
  grants: GrantsApi;
  deny(id: string, comment: string): Promise<Action>;
  cancel(id: string): Promise<Action>;
  /** Wraps an async function as a gated call (decide mode): `fn` runs only after approval. See guard.ts. */
  guard<A extends unknown[], R>(fn: (...args: A) => Promise<R> | R, opts: GuardOptions<A>): (...args: A) => Promise<R>;
  /** The action's offline receipt; entries not yet under a signed checkpoint are listed in `pending`. */
  receipt(id: string): Promise<Receipt>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export function createClient(opts: ClientOptions): CountersignClient {
  const base = opts.url.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const ua = opts.userAgent ?? 'countersign-sdk/1';

  async function call<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${opts.token}`, 'user-agent': ua, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new CountersignUnavailableError(`cannot reach ${base}: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CountersignUnavailableError(`${base} answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
      throw new CountersignError((err?.code ?? `HTTP_${res.status}`) as CountersignErrorCode, err?.message ?? res.statusText, res.status, err?.details);
    }
    return parsed as T;
  }

  const enc = encodeURIComponent;
  const client: CountersignClient = {
    submit: (req, o) =>
      call<Action>('POST', `/v1/actions${o?.waitSeconds ? `?wait=${Math.max(0, Math.floor(o.waitSeconds))}` : ''}`, req, o?.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {}),
    get: (id) => call<Action>('GET', `/v1/actions/${enc(id)}`),
    async wait(id, o = {}) {
      const deadline = o.timeoutSeconds !== undefined ? Date.now() + o.timeoutSeconds * 1000 : Infinity;
      let backoff = 250;
      for (;;) {
        const left = Math.ceil((deadline - Date.now()) / 1000);
        const poll = Math.max(0, Math.min(o.pollSeconds ?? 30, left));
        try {
          const started = Date.now();
          const a = await call<Action>('GET', `/v1/actions/${enc(id)}?wait=${poll}`, undefined, {}, o.signal);
          if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
          if (isSettled(a) || Date.now() >= deadline) return a;
          // A server that answers at once (a short cap on ?wait) is polled with backoff, not in a tight loop.
          if (Date.now() - started < 500) {
            await sleep(backoff, o.signal);
            backoff = Math.min(backoff * 2, 5000);
          } else backoff = 250;
        } catch (e) {
          // Network trouble: back off and try again; API errors (404, 401...) are final.
          if (!(e instanceof CountersignUnavailableError) || Date.now() >= deadline) throw e;
          await sleep(backoff, o.signal);
          backoff = Math.min(backoff * 2, 5000);
        }
        if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
      }
    },
    list(q = {}) {
      const p = new URLSearchParams();
      if (q.status?.length) p.set('status', q.status.join(','));
      if (q.limit) p.set('limit', String(q.limit));
      if (q.cursor) p.set('cursor', q.cursor);
      const qs = p.toString();
      return call<ActionPage>('GET', `/v1/actions${qs ? `?${qs}` : ''}`);
    },
    approve: (id, fingerprint, comment, o) =>
      call<Action>('POST', `/v1/actions/${enc(id)}/approve`, { fingerprint, ...(comment === undefined ? {} : { comment }), ...(o?.grant ? { grant: o.grant } : {}) }),
    grants: grantsApi(call),
    deny: (id, comment) => call<Action>('POST', `/v1/actions/${enc(id)}/deny`, { comment }),
    cancel: (id) => call<Action>('POST', `/v1/actions/${enc(id)}/cancel`),
    guard: (fn, o) => guard(client, fn, o),
    receipt: (id) => call<Receipt>('GET', `/v1/actions/${enc(id)}/receipt`),
  };
  return client;
}
