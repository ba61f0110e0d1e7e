import type { HttpTargetConfig } from '../../config/schema.js';
import type { HttpInput, HttpMethod } from '../../domain/action.js';
import { fingerprintOf } from '../../domain/action.js';
import type { ActionRecord } from '../../domain/action-record.js';
import type { ExecutionFailureCode, ExecutorResult } from '../../domain/execution-failure.js';
import { executionFailure } from '../../domain/execution-failure.js';
import { isAppError } from '../../domain/errors.js';
import { checkHttpAction, checkRedirect } from '../../domain/http-request-check.js';
import { credentialCores } from '../../domain/redact.js';
import type { Redactor, RedactorOptions } from '../../domain/redact-secrets.js';
import { createRedactor } from '../../domain/redact-secrets.js';
import type { Executor } from '../../ports/executor.js';
import { describeFetchError } from './http-fetch-error.js';
import { afterRedirect, buildRequestHeaders, encodeBody, REDIRECT_STATUSES } from './http-request-build.js';
import { decodeBody, readCapped, selectHeaders } from './http-response-read.js';
import type { PreparedHttpTarget } from './http-target.js';
import { prepareHttpTarget, targetCredentials, targetSecrets } from './http-target.js';

export interface HttpExecutorOptions {
  targets: Record<string, HttpTargetConfig>;
  /** Every secret value to redact (LoadedConfig.secrets); the targets' own are added. */
  secrets?: readonly string[];
  /** The run length and which secrets are credentials (LoadedConfig.credentials); see createRedactor. */
  redaction?: RedactorOptions;
  /** The config's redactor, shared: used when it covers every target's credentials, else one is built. */
  redactor?: Redactor;
  /** Injected for tests; Node's built-in fetch (undici) otherwise. */
  fetch?: typeof fetch;
}

interface Prepared {
  target: PreparedHttpTarget;
  input: HttpInput;
  url: URL;
}

/** A failure found before sending. */
interface Refusal {
  refused: ExecutionFailureCode;
  message: string;
}

const refuse = (refused: ExecutionFailureCode, message: string): Refusal => ({ refused, message });

/**
 * The `http` executor: runs an approved, running action against its target with the
 * target's injected headers, under the target's base URL only, with a timeout, a
 * response size cap and secrets redacted from everything it returns. Never throws.
 * Throws CONFIG_INVALID at creation if a target cannot be used.
 */
export function createHttpExecutor(opts: HttpExecutorOptions): Executor {
  const targets = new Map<string, PreparedHttpTarget>();
  const given = opts.redactor;
  const secretSet = new Set([...(given?.secrets ?? []), ...(opts.secrets ?? [])]);
  // The given redactor knows which of its secrets are credentials (a URL from the environment is not).
  const credentials = new Set(given ? given.credentials : (opts.redaction?.credentials ?? (opts.secrets ?? []).flatMap(credentialCores)));
  for (const [name, cfg] of Object.entries(opts.targets)) {
    targets.set(name, prepareHttpTarget(name, cfg));
    for (const s of targetSecrets(cfg)) secretSet.add(s);
    for (const s of targetCredentials(cfg)) credentials.add(s);
  }
  // One automaton for every secret and form, built once: the config's when it covers every target.
  const covers = (r: Redactor) => [...secretSet].every((s) => r.secrets.includes(s)) && [...credentials].every((s) => r.credentials.has(s));
  const redactor = given && covers(given) ? given : createRedactor([...secretSet], { ...opts.redaction, credentials: [...credentials] });
  const doFetch = opts.fetch ?? fetch;
  const clean = (message: string) => redactor.text(message);

  /** Everything checked before a byte is sent. */
  function prepare(action: ActionRecord): Prepared | Refusal {
    if (action.status !== 'running') return refuse('NOT_RUNNING', `the action is ${action.status}; only a running action is executed`);
    let expected: string;
    try {
      expected = fingerprintOf({ kind: action.kind, target: action.target, input: action.input, requester: action.requester.id });
    } catch {
      return refuse('FINGERPRINT_MISMATCH', 'the action cannot be fingerprinted; nothing was sent');
    }
    // Defence in depth: a record changed after approval no longer matches what was approved.
    if (expected !== action.fingerprint) return refuse('FINGERPRINT_MISMATCH', 'the action does not match its approved fingerprint; nothing was sent');
    const target = targets.get(action.target);
    if (!target) return refuse('TARGET_NOT_FOUND', `no http target named "${action.target}"`);
    if (action.kind !== 'http') return refuse('KIND_MISMATCH', `target "${action.target}" is an http target; the action is ${action.kind}`);
    try {
      return { target, ...checkHttpAction(target.baseUrl, action.input, target.headers.find(([h]) => h === 'content-type')?.[1]) };
    } catch (e) {
      if (isAppError(e) && (e.code === 'VALIDATION_FAILED' || e.code === 'UNSAFE_REQUEST' || e.code === 'AMBIGUOUS_BODY')) return refuse(e.code, e.message);
      return refuse('UNSAFE_REQUEST', 'the request could not be checked; nothing was sent');
    }
  }

  async function run(action: ActionRecord, signal: AbortSignal | undefined): Promise<ExecutorResult> {
    const prepared = prepare(action);
    if ('refused' in prepared) return executionFailure(prepared.refused, clean(prepared.message));
    if (signal?.aborted) return executionFailure('ABORTED', 'the execution was cancelled before anything was sent');
    const { target, input, url: firstUrl } = prepared;
    const headers = buildRequestHeaders(input.headers, target.headers);
    let method: HttpMethod = input.method;
    let body = encodeBody(method, input.body, headers);
    let url = firstUrl;

    // One controller for the whole exchange: the deadline, the caller's cancellation and
    // the end of the read all abort it. Cleared in `finally`, so nothing outlives the call.
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, target.timeoutMs);
    const cancel = () => ctl.abort();
    signal?.addEventListener('abort', cancel, { once: true });
    /** What is known of the last response, kept on failures after it arrived. */
    const seen: Partial<ExecutorResult> = {};
    try {
      for (let hops = 0; ; hops++) {
        const res = await doFetch(url, { method, headers, body, redirect: 'manual', signal: ctl.signal });
        const kept = selectHeaders(res.headers, redactor);
        Object.assign(seen, { status: res.status, headers: kept });
        const location = res.headers.get('location');
        if (REDIRECT_STATUSES.has(res.status) && location !== null) {
          await res.body?.cancel().catch(() => undefined);
          const next = checkRedirect(target.baseUrl, url, location);
          if (!next.ok) return executionFailure('REDIRECT_REFUSED', `redirect refused: ${next.message}; it was not followed`, seen);
          if (hops >= target.followRedirects) {
            return executionFailure('REDIRECT_REFUSED', `redirect refused: this target follows at most ${target.followRedirects} redirect(s)`, seen);
          }
          ({ method, body } = afterRedirect(res.status, method, body, headers));
          url = next.url;
          continue;
        }
        const { bytes, truncated } = await readCapped(res.body, target.maxResponseBytes);
        return {
          ok: res.status >= 200 && res.status < 300,
          status: res.status,
          headers: kept,
          ...decodeBody(bytes, truncated, res.headers.get('content-type'), redactor),
          bodyTruncated: truncated,
        };
      }
    } catch (e) {
      if (timedOut) return executionFailure('TIMEOUT', `no complete response within ${target.timeoutMs} ms`, seen);
      if (signal?.aborted) return executionFailure('ABORTED', 'the execution was cancelled while the request was in flight', seen);
      const { code, message } = describeFetchError(e);
      return executionFailure(code, clean(message), seen);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      // Drops a connection left half-read (size cap).
      ctl.abort();
    }
  }

  return Object.freeze({
    async execute(action: ActionRecord, signal?: AbortSignal): Promise<ExecutorResult> {
      try {
        return await run(action, signal);
      } catch {
        // run() handles its own failures; this is the last line of "never throws".
        return executionFailure('EXECUTION_FAILED', 'the execution failed unexpectedly');
      }
    },
  });
}
