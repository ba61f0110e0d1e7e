import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readHttpBody } from './http-body-read.js';
import { checkHttpAction, checkHttpBody, checkHttpRequest, checkRedirect, encodeQuery, parseBaseUrl, pathProblem, resolvesAsBuilt } from './http-request-check.js';
import { refusal } from '../../test/support/refusal.js';

// Edges the mutation campaign (docs/reliability.md) found unpinned: the exact reason
// each rule gives (agents and reviewers read it), where a message is cut, credentials
// in half, base paths with several trailing slashes, and the body check's own result.

const BASE = 'https://api.example.com/api/v1';

describe('each path rule says exactly what is wrong', () => {
  const messages: Array<[string, string]> = [
    ['http://evil.example/x', 'absolute URLs are not allowed: give a path under the target, starting with /'],
    ['x', 'the path must start with /'],
    ['//evil.example', 'a path starting with // names another host'],
    ['/a\tb', 'the path holds a control character'],
    ['/a\\b', 'the path holds a backslash, which some servers read as /'],
    ['/a@b', 'the path holds @, which can pass for userinfo; percent-encode it as %40'],
    ['/a?b', 'the path holds ?: give query parameters in input.query'],
    ['/a#b', 'the path holds #: fragments are never sent'],
    ['/a;b', 'the path holds ; (a path parameter, which some servers strip before routing): percent-encode it as %3B if it is data'],
    ['/ab<c d', 'the path holds "<": percent-encode it'],
    ['/a%zz', 'the path holds % not followed by two hex digits'],
    ['/a%2Fb', 'the path holds %2F: encoded dots, slashes, backslashes, percent signs and control characters are refused'],
    ['/b%61c', 'the path holds %61, an encoded "a": write unreserved characters as themselves'],
    ['/a//b', 'the path holds an empty segment (//)'],
    ['/a/../b', 'the path holds a dot segment (., .., ...)'],
    ['/a/%c0%ae', 'the path segment "%c0%ae" holds percent escapes that are not UTF-8 (overlong forms, lone bytes or surrogates), which servers decode differently'],
    ['/a/%EF%BC%8E', 'the path segment "%EF%BC%8E" decodes to characters that normalise (NFKC) to ".": a dot segment or a separator to servers that normalise'],
  ];
  it.each(messages)('%j: %s', (path, message) => {
    expect(pathProblem(path)?.message).toBe(message);
    const e = refusal(() => checkHttpRequest(BASE, { method: 'GET', path }));
    expect(e.message).toBe(`unsafe path: ${message}`);
    expect(e.details).toStrictEqual({ field: 'path', rule: pathProblem(path)?.rule });
  });

  it('a segment is quoted up to 64 characters, its normal form up to 32', () => {
    const long = `${'x'.repeat(70)}%c0%ae`;
    expect(pathProblem(`/${long}`)?.message).toBe(`the path segment ${JSON.stringify(long.slice(0, 64))} holds percent escapes that are not UTF-8 (overlong forms, lone bytes or surrogates), which servers decode differently`);
    const dots = '%EF%BC%8E'.repeat(40);
    expect(pathProblem(`/${dots}`)?.message).toBe(`the path segment ${JSON.stringify(dots.slice(0, 64))} decodes to characters that normalise (NFKC) to ${JSON.stringify('.'.repeat(32))}: a dot segment or a separator to servers that normalise`);
  });

  it('every segment is checked, also after one with escapes that are fine', () => {
    expect(pathProblem('/caf%C3%A9/../admin')?.rule).toBe('dot-segment');
    expect(pathProblem('/caf%C3%A9/x/%c0%ae')?.rule).toBe('encoded-non-utf8');
  });

  it('only a segment of dots is a dot segment, before or after decoding: a dot at one end of a name is fine', () => {
    for (const path of ['/v1./x', '/x/.hidden', '/a%EF%BC%8E', '/%EF%BC%8Ea']) {
      expect(pathProblem(path)).toBeUndefined();
      expect(checkHttpRequest(BASE, { method: 'GET', path }).pathname).toBe(`/api/v1${path}`);
    }
  });
});

describe('what the rules let through resolves under the base URL, byte for byte', () => {
  const pathChar = fc.constantFrom(..."aZ09-._~!$&'()*+,=:%/2eF".split(''));
  it('any path pathProblem accepts is requested exactly as given (the check after building the URL never fires)', () => {
    fc.assert(
      fc.property(fc.string({ unit: pathChar, maxLength: 20 }), (tail) => {
        const path = `/${tail}`;
        fc.pre(pathProblem(path) === undefined);
        expect(checkHttpRequest(BASE, { method: 'GET', path }).pathname).toBe(`/api/v1${path}`);
      }),
      { numRuns: 300 },
    );
  });

  it('any query keys and values are sent encoded and read back the same: an apostrophe is %27', () => {
    expect(checkHttpRequest(BASE, { method: 'GET', path: '/people', query: { name: "O'Brien" } }).search).toBe('?name=O%27Brien');
    expect(encodeQuery({ "it's": ["a'b", 'c'] })).toBe('it%27s=a%27b&it%27s=c');
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }), (query) => {
        fc.pre(!Object.keys(query).includes('__proto__'));
        const url = checkHttpRequest(BASE, { method: 'GET', path: '/q', query });
        expect(url.search).toBe(Object.keys(query).length ? `?${encodeQuery(query)}` : '');
        expect([...url.searchParams]).toEqual(Object.entries(query));
      }),
      { numRuns: 300 },
    );
  });

  it('the check after building the URL refuses any difference from what was built', () => {
    const built = { origin: 'https://h.example', pathname: '/api/x', search: '?q=1' };
    expect(resolvesAsBuilt(new URL('https://h.example/api/x?q=1'), built)).toBe(true);
    for (const href of [
      'https://evil.example/api/x?q=1',
      'https://user@h.example/api/x?q=1',
      'https://:pw@h.example/api/x?q=1',
      'https://h.example/api/y?q=1',
      'https://h.example/api/x?q=2',
      'https://h.example/api/x?q=1#f',
    ]) {
      expect(resolvesAsBuilt(new URL(href), built)).toBe(false);
    }
  });

  it('a base path with several trailing slashes is the same prefix', () => {
    expect(parseBaseUrl('https://h.example/api//').prefix).toBe('/api');
    expect(checkHttpRequest('https://h.example/api//', { method: 'GET', path: '/x' }).href).toBe('https://h.example/api/x');
  });

  it('a base URL with a user name alone, or a password alone, holds credentials', () => {
    for (const base of ['https://user@h.example/', 'https://:secretpassword@h.example/']) {
      const e = refusal(() => parseBaseUrl(base));
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.message).toBe('the target\'s baseUrl must not hold credentials: inject them as headers');
    }
  });
});

describe('the body check', () => {
  // Duplicate keys: servers keep the first or the last.
  const ambiguous = { method: 'POST', path: '/x', headers: { 'content-type': 'application/json' }, body: '{"a":1,"a":2}' };

  it('returns the reading the policy sees', () => {
    const input = { method: 'POST', path: '/x', headers: { 'content-type': 'application/json' }, body: '{"a":1}' };
    expect(checkHttpBody(input)).toStrictEqual({ kind: 'json', contentType: 'application/json', value: { a: 1 } });
  });

  it('a body that could be read two ways is refused with its rule, in checkHttpAction too', () => {
    const r = readHttpBody(ambiguous);
    expect(r.ok).toBe(false);
    const problem = (r as { ok: false; problem: { rule: string; message: string } }).problem;
    for (const e of [refusal(() => checkHttpBody(ambiguous)), refusal(() => checkHttpAction(BASE, ambiguous))]) {
      expect(e.code).toBe('AMBIGUOUS_BODY');
      expect(e.message).toBe(problem.message);
      expect(e.details).toStrictEqual({ field: 'body', rule: problem.rule });
    }
  });
});

describe('redirects', () => {
  const current = new URL('https://h.example/api/x');
  it('a Location with a user name alone, or a password alone, is refused', () => {
    expect(checkRedirect('https://h.example/api', current, 'https://user@h.example/api/z')).toStrictEqual({ ok: false, message: 'the redirect Location holds credentials' });
    expect(checkRedirect('https://h.example/api', current, 'https://:pw@h.example/api/z')).toStrictEqual({ ok: false, message: 'the redirect Location holds credentials' });
  });

  it('only the part under the base path is checked as an agent\'s path', () => {
    const base = 'https://h.example/x;v=1';
    const r = checkRedirect(base, new URL('https://h.example/x;v=1/a'), '/x;v=1/b');
    expect(r.ok).toBe(true);
    expect(checkRedirect(base, new URL('https://h.example/x;v=1/a'), '/x;v=1/b;c')).toStrictEqual({
      ok: false,
      message: 'the redirect path is unsafe: the path holds ; (a path parameter, which some servers strip before routing): percent-encode it as %3B if it is data',
    });
  });
});
