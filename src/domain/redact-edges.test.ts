import { describe, expect, it } from 'vitest';
import { MIN_SECRET_LENGTH, PUBLIC_HEADERS, REDACTED, SENSITIVE_HEADERS, credentialCores, credentialVariants, redactHeaders } from './redact.js';

// Edges the mutation campaign found unpinned (docs/reliability.md): every credential
// header by name and in any case, the public list that decides which injected headers
// are not secret, the minimum length, and how Basic and Bearer values are taken apart.

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('credential headers, edge by edge', () => {
  it('redacts every credential header whatever its case, and keeps every other header as it was', () => {
    const names = ['Authorization', 'Proxy-Authorization', 'Cookie', 'Set-Cookie', 'X-Api-Key', 'X-Auth-Token', 'X-Amz-Security-Token', 'Private-Token'];
    expect(names.map((n) => n.toLowerCase()).sort()).toEqual([...SENSITIVE_HEADERS].sort());
    const entries: Array<[string, string]> = [...names.map((n): [string, string] => [n, 'secret-value-1234']), ['Accept', 'application/json'], ['X-Request-Id', 'r-1']];
    const h = Object.fromEntries(entries);
    const out = redactHeaders(h)!;
    for (const n of names) expect(out[n], n).toBe(REDACTED);
    expect(out.Accept).toBe('application/json');
    expect(out['X-Request-Id']).toBe('r-1');
    expect(redactHeaders({ AUTHORIZATION: 'x' })).toEqual({ AUTHORIZATION: REDACTED });
    expect(redactHeaders(undefined)).toBeUndefined();
  });

  it('treats as public only these injected headers: any other is a credential, whatever its name', () => {
    expect([...PUBLIC_HEADERS].sort()).toEqual(['accept', 'accept-encoding', 'accept-language', 'api-version', 'cache-control', 'content-type', 'user-agent', 'x-api-version', 'x-github-api-version']);
  });

  it('keeps secrets of 8 characters or more and drops shorter ones', () => {
    expect(MIN_SECRET_LENGTH).toBe(8);
    expect(credentialCores('Bearer abcdefgh')).toEqual(['abcdefgh']);
    expect(credentialCores('Bearer abcdefg')).toEqual([]);
    expect(credentialVariants('abcdefg')).toEqual([]);
    expect(credentialVariants('abcdefgh')).toEqual(['abcdefgh', 'abcdefgh']);
  });

  it('takes the credential part after any run of whitespace, and the whole value as is', () => {
    expect(credentialCores('  Bearer \t tok_live_123456  ')).toEqual(['tok_live_123456']);
    expect(credentialVariants('Bearer tok_live_123456')).toEqual(['Bearer tok_live_123456', 'tok_live_123456']);
  });

  it('decodes Basic in any case of the scheme, and only a scheme and one credential', () => {
    const pair = 'svc-user:pa55word-long';
    for (const scheme of ['Basic', 'basic', 'BASIC']) {
      const v = `${scheme} ${b64(pair)}`;
      expect(credentialCores(v), scheme).toEqual([b64(pair), 'pa55word-long']);
      expect(credentialVariants(v), scheme).toEqual([v, b64(pair), 'pa55word-long', pair]);
    }
    // Three parts: not a Basic credential, nothing decoded.
    const three = `Basic ${b64(pair)} extra-part`;
    expect(credentialCores(three)).toEqual(['extra-part']);
    expect(credentialVariants(three)).toEqual([three, 'extra-part']);
    // Three parts ending in an encoded pair: still not Basic, its password not taken apart.
    expect(credentialCores(`Basic realm ${b64(pair)}`)).toEqual([b64(pair)]);
    // Surrounding whitespace does not make a Basic value three parts.
    expect(credentialVariants(`  Basic ${b64(pair)}  `)).toContain(pair);
    // Another scheme: nothing decoded.
    expect(credentialCores(`Token ${b64(pair)}`)).toEqual([b64(pair)]);
    expect(credentialVariants(`Token ${b64(pair)}`)).toEqual([`Token ${b64(pair)}`, b64(pair)]);
    // Any run of whitespace between the scheme and the credential.
    expect(credentialCores(`Basic \t  ${b64(pair)}`)).toEqual([b64(pair), 'pa55word-long']);
    expect(credentialVariants(`Basic \t  ${b64(pair)}`)).toContain(pair);
  });

  it('a Basic pair without a colon has no password part; an empty password is dropped', () => {
    expect(credentialCores(`Basic ${b64('justoneword-long')}`)).toEqual([b64('justoneword-long')]);
    expect(credentialCores(`Basic ${b64('user-long-name:')}`)).toEqual([b64('user-long-name:')]);
    // An empty user name: the password is still secret.
    expect(credentialCores(`Basic ${b64(':pa55word-long')}`)).toEqual([b64(':pa55word-long'), 'pa55word-long']);
    // The password is what follows the first colon, colons included.
    expect(credentialCores(`Basic ${b64('u:pass:with:colons')}`)).toEqual([b64('u:pass:with:colons'), 'pass:with:colons']);
  });
});
