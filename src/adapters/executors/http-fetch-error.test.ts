import { describe, expect, it } from 'vitest';
import { describeFetchError } from './http-fetch-error.js';

describe('describeFetchError', () => {
  it('names the system error found in the cause chain, never the raw message', () => {
    const e = new TypeError('fetch failed https://secret-host/x', { cause: Object.assign(new Error('connect ECONNREFUSED secret'), { code: 'ECONNREFUSED' }) });
    expect(describeFetchError(e)).toEqual({ code: 'CONNECTION_FAILED', message: 'the target refused the connection (ECONNREFUSED)' });
  });
  it('maps TLS failures to CONNECTION_FAILED and the unknown to EXECUTION_FAILED', () => {
    expect(describeFetchError({ cause: { code: 'CERT_HAS_EXPIRED' } }).code).toBe('CONNECTION_FAILED');
    expect(describeFetchError({ cause: { code: 'UND_ERR_RESPONSE_STATUS_CODE' } })).toEqual({ code: 'EXECUTION_FAILED', message: 'the request to the target failed (UND_ERR_RESPONSE_STATUS_CODE)' });
    expect(describeFetchError(new Error('x'))).toEqual({ code: 'EXECUTION_FAILED', message: 'the request to the target failed' });
    expect(describeFetchError({ code: 'not a code; with secret' }).message).not.toContain('secret');
  });
});
