import type { ExecutionFailureCode } from '../../domain/execution-failure.js';

const SYSTEM_CODE = /^[A-Z][A-Z0-9_]{1,40}$/;

/** Socket errors (ECONNABORTED, EPIPE...) and TLS verification failures: the target was not reached properly. */
const ERRNO = /^E[A-Z]+$/;
const TLS = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;

const KNOWN: Record<string, string> = {
  ECONNREFUSED: 'the target refused the connection',
  ECONNRESET: 'the target reset the connection',
  ENOTFOUND: 'the target\'s host name does not resolve',
  EAI_AGAIN: 'the target\'s host name could not be resolved (temporary DNS failure)',
  EHOSTUNREACH: 'the target\'s host is unreachable',
  ENETUNREACH: 'the target\'s network is unreachable',
  ETIMEDOUT: 'the connection to the target timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection to the target timed out',
  UND_ERR_SOCKET: 'the connection to the target failed',
};

/** The `cause.code` of a fetch error (undici nests the system error), if it looks like one. */
function causeCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 4 && cur && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && SYSTEM_CODE.test(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A fetch failure as a code and a message built from fixed text and the system error
 * code only: raw messages are never copied, since they can quote header values or URLs.
 */
export function describeFetchError(e: unknown): { code: ExecutionFailureCode; message: string } {
  const code = causeCode(e);
  if (code === undefined) return { code: 'EXECUTION_FAILED', message: 'the request to the target failed' };
  const known = KNOWN[code];
  if (known) return { code: 'CONNECTION_FAILED', message: `${known} (${code})` };
  if (ERRNO.test(code) || TLS.test(code)) return { code: 'CONNECTION_FAILED', message: `could not reach the target (${code})` };
  return { code: 'EXECUTION_FAILED', message: `the request to the target failed (${code})` };
}
