import { describe, expect, it } from 'vitest';
import type { HttpInput } from './action.js';
import { AppError } from './errors.js';
import type { PathRule } from './http-request-check.js';
import { checkHttpAction, checkHttpRequest, checkRedirect, encodeQuery, parseBaseUrl, pathProblem } from './http-request-check.js';
import { refusal } from '../../test/support/refusal.js';

const BASE = 'https://api.example.com/api/v1';

describe('every attempt to leave the base URL is refused', () => {
  const cases: Array<[string, PathRule]> = [
    ['http://evil.example/x', 'absolute-url'],
    ['https://evil.example', 'absolute-url'],
    ['HTTPS://api.example.com/api/v1/x', 'absolute-url'],
    ['javascript:alert(1)', 'absolute-url'],
    ['file:///etc/passwd', 'absolute-url'],
    ['repos/a/b', 'not-absolute-path'],
    ['\\\\evil.example\\x', 'not-absolute-path'],
    ['.', 'not-absolute-path'],
    ['//evil.example/x', 'scheme-relative'],
    ['///evil.example', 'scheme-relative'],
    ['/a\r\nHost: evil.example', 'control-character'],
    ['/a\nb', 'control-character'],
    ['/a\tb', 'control-character'],
    ['/a\u0000b', 'control-character'],
    ['/a\u007fb', 'control-character'],
    ['/\\evil.example', 'backslash'],
    ['/a\\..\\..\\b', 'backslash'],
    ['/@evil.example', 'userinfo'],
    ['/user:pass@evil.example/x', 'userinfo'],
    ['/a?admin=1', 'query-in-path'],
    ['/a#frag', 'fragment'],
    ['/a b', 'character'],
    ['/ä', 'character'],
    ['/a<script>', 'character'],
    ['/a"b', 'character'],
    ['/a`b', 'character'],
    ['/a{b}', 'character'],
    ['/a|b', 'character'],
    ['/\uff0e\uff0e/admin', 'character'],
    ['/a%zz', 'malformed-encoding'],
    ['/a%2', 'malformed-encoding'],
    ['/a/%u002e%u002e/b', 'malformed-encoding'],
    ['/a/%2e%2e/admin', 'encoded-traversal'],
    ['/a/%2E%2E/admin', 'encoded-traversal'],
    ['/a/.%2e/admin', 'encoded-traversal'],
    ['/a/%2e/admin', 'encoded-traversal'],
    ['/a%2fb', 'encoded-traversal'],
    ['/a%2F..%2Fadmin', 'encoded-traversal'],
    ['/a%5cb', 'encoded-traversal'],
    ['/a%5C..%5Cadmin', 'encoded-traversal'],
    ['/a/%252e%252e/admin', 'encoded-traversal'],
    ['/a%252fb', 'encoded-traversal'],
    // Encoded unreserved characters would let a path slip past a policy regex on the literal path.
    ['/%61dmin', 'encoded-unreserved'],
    ['/repos/%41cme/app', 'encoded-unreserved'],
    ['/v1/items%2d1', 'encoded-unreserved'],
    ['/a%7Eb', 'encoded-unreserved'],
    ['/a%5fb', 'encoded-unreserved'],
    ['/item%31', 'encoded-unreserved'],
    ['/a%25', 'encoded-traversal'],
    ['/a%00b', 'encoded-traversal'],
    ['/a%0d%0aX-Injected:%201', 'encoded-traversal'],
    ['/a%7f', 'encoded-traversal'],
    ['/a//b', 'empty-segment'],
    ['/..', 'dot-segment'],
    ['/../admin', 'dot-segment'],
    ['/a/../../admin', 'dot-segment'],
    ['/a/..', 'dot-segment'],
    ['/a/./b', 'dot-segment'],
    ['/a/.', 'dot-segment'],
    ['/a/..;/admin', 'path-parameter'],
    ['/a/.;x/admin', 'path-parameter'],
    ['/admin;x/users', 'path-parameter'],
    ['/repos/a/b/releases;x', 'path-parameter'],
    ['/a/.../b', 'dot-segment'],
    // Escapes that are not UTF-8: lenient decoders turn them into `.` or U+FFFD (issue 12 §5).
    ['/a/%c0%ae%c0%ae/admin', 'encoded-non-utf8'],
    ['/a/%C0%AE/admin', 'encoded-non-utf8'],
    ['/a/%e0%80%ae/admin', 'encoded-non-utf8'],
    ['/a/%f0%80%80%ae/admin', 'encoded-non-utf8'],
    ['/a/%c0%af', 'encoded-non-utf8'],
    ['/a/%80', 'encoded-non-utf8'],
    ['/a/x%bf', 'encoded-non-utf8'],
    ['/a/%ed%a0%80', 'encoded-non-utf8'],
    ['/a/%ed%bf%bf/b', 'encoded-non-utf8'],
    ['/a/%f4%90%80%80', 'encoded-non-utf8'],
    ['/a/%e2%80', 'encoded-non-utf8'],
    ['/a/%ff', 'encoded-non-utf8'],
    // Segments whose NFKC form is a dot segment or holds a separator.
    ['/a/%EF%BC%8E%EF%BC%8E/admin', 'look-alike-segment'],
    ['/a/%ef%bc%8e/admin', 'look-alike-segment'],
    ['/a/.%EF%BC%8E/admin', 'look-alike-segment'],
    ['/a/%E2%80%A4%E2%80%A4/admin', 'look-alike-segment'],
    ['/a/%E2%80%A5/admin', 'look-alike-segment'],
    ['/a/%E2%80%A6', 'look-alike-segment'],
    ['/a/%EF%B9%92%EF%B9%92/admin', 'look-alike-segment'],
    ['/a%EF%BC%8F..%EF%BC%8Fadmin', 'look-alike-segment'],
    ['/a%EF%BC%BCadmin', 'look-alike-segment'],
    ['/a%EF%B9%A8b', 'look-alike-segment'],
    ['/a%EF%BC%85%EF%BC%92%EF%BC%85b', 'look-alike-segment'],
    ['/a%EF%BC%9Bx', 'look-alike-segment'],
    ['/a%EF%BC%9Fadmin=1', 'look-alike-segment'],
  ];

  it.each(cases)('%j is refused (%s)', (path, rule) => {
    expect(pathProblem(path)?.rule).toBe(rule);
    const e = refusal(() => checkHttpRequest(BASE, { method: 'GET', path }));
    expect(e.code).toBe('UNSAFE_REQUEST');
    expect(e.details).toMatchObject({ field: 'path', rule });
    expect(e.message).toMatch(/^unsafe path: /);
  });

  it('refuses them under a root base URL too', () => {
    for (const [path] of cases) expect(() => checkHttpRequest('https://api.example.com', { method: 'GET', path })).toThrow(AppError);
  });
});

describe('legitimate paths resolve under the base URL, byte for byte', () => {
  const cases: Array<[string, string]> = [
    ['/repos/a/b/releases', 'https://api.example.com/api/v1/repos/a/b/releases'],
    ['/a%20b', 'https://api.example.com/api/v1/a%20b'],
    ['/', 'https://api.example.com/api/v1/'],
    ['/a/b/', 'https://api.example.com/api/v1/a/b/'],
    ['/~user/file.txt', 'https://api.example.com/api/v1/~user/file.txt'],
    ['/items%3Bv=2', 'https://api.example.com/api/v1/items%3Bv=2'],
    ['/search/q:foo', 'https://api.example.com/api/v1/search/q:foo'],
    ['/.well-known/openid-configuration', 'https://api.example.com/api/v1/.well-known/openid-configuration'],
    ['/a..b/c.d', 'https://api.example.com/api/v1/a..b/c.d'],
    ["/a!$&'()*+,=", "https://api.example.com/api/v1/a!$&'()*+,="],
    ['/users/a%40b.example', 'https://api.example.com/api/v1/users/a%40b.example'],
    ['/%E2%9C%93', 'https://api.example.com/api/v1/%E2%9C%93'],
    ['/a%3Fb%23c', 'https://api.example.com/api/v1/a%3Fb%23c'],
    // UTF-8 text, including characters NFKC changes into something harmless.
    ['/caf%C3%A9/%F0%9F%98%80', 'https://api.example.com/api/v1/caf%C3%A9/%F0%9F%98%80'],
    ['/a%EF%BC%8Eb', 'https://api.example.com/api/v1/a%EF%BC%8Eb'],
    ['/%EF%AC%81le', 'https://api.example.com/api/v1/%EF%AC%81le'],
  ];
  it.each(cases)('%s → %s', (path, href) => {
    expect(pathProblem(path)).toBeUndefined();
    expect(checkHttpRequest(BASE, { method: 'GET', path }).href).toBe(href);
  });

  it('appends to the base path whether or not it ends with /, and to a root base', () => {
    expect(checkHttpRequest('https://h.example/api/', { method: 'GET', path: '/x' }).href).toBe('https://h.example/api/x');
    expect(checkHttpRequest('https://h.example', { method: 'GET', path: '/x' }).href).toBe('https://h.example/x');
    expect(checkHttpRequest('http://127.0.0.1:8080/', { method: 'GET', path: '/x' }).href).toBe('http://127.0.0.1:8080/x');
  });

  it('query values are data: escapes and look-alikes in them are sent escaped again, never as raw bytes', () => {
    const url = checkHttpRequest(BASE, { method: 'GET', path: '/f', query: { file: '%c0%ae%c0%ae/\uff0e\uff0e/etc' } });
    expect(url.search).toBe('?file=%25c0%25ae%25c0%25ae%2F%EF%BC%8E%EF%BC%8E%2Fetc');
    expect(url.searchParams.get('file')).toBe('%c0%ae%c0%ae/\uff0e\uff0e/etc');
  });

  it('encodes query parameters fully, in order, arrays as repeated keys', () => {
    const url = checkHttpRequest(BASE, { method: 'GET', path: '/search', query: { q: 'a b&c=d#e/?%', 'a[b]': 'é', tags: ['x', 'y z'], none: [] } });
    expect(url.search).toBe('?q=a%20b%26c%3Dd%23e%2F%3F%25&a%5Bb%5D=%C3%A9&tags=x&tags=y%20z');
    expect(url.pathname).toBe('/api/v1/search');
    expect(url.searchParams.get('q')).toBe('a b&c=d#e/?%');
    expect(url.searchParams.getAll('tags')).toEqual(['x', 'y z']);
    expect(encodeQuery(undefined)).toBe('');
  });
});

describe('agent headers that would change routing, framing or the connection are refused', () => {
  const refused = [
    'host',
    'Host',
    'HOST',
    'content-length',
    'Transfer-Encoding',
    'connection',
    'keep-alive',
    'te',
    'trailer',
    'upgrade',
    'expect',
    'content-encoding',
    'Content-Encoding',
    'proxy',
    'proxy-authorization',
    'Proxy-Connection',
    'proxy-anything',
    'forwarded',
    'x-forwarded-for',
    'X-Forwarded-Host',
    'x-forwarded-proto',
    'x-real-ip',
    'x-original-url',
    'x-rewrite-url',
    'x-http-method-override',
    'x-http-method',
    'x-method-override',
  ];
  it.each(refused)('%s', (name) => {
    const e = refusal(() => checkHttpRequest(BASE, { method: 'GET', path: '/x', headers: { [name]: 'v' } }));
    expect(e.code).toBe('UNSAFE_REQUEST');
    expect(e.details).toMatchObject({ field: 'headers', header: name });
    expect(e.message).toContain(name);
  });

  it('lets ordinary headers through', () => {
    const input: HttpInput = { method: 'POST', path: '/x', headers: { accept: 'application/json', 'content-type': 'text/plain', 'x-trace': '1', authorization: 'Bearer agent', proxyish: 'x' } };
    expect(() => checkHttpRequest(BASE, input)).not.toThrow();
  });
});

describe('the base URL itself', () => {
  it.each([
    ['not a url', /not a URL/],
    ['ftp://h.example/', /http or https/],
    ['https://user:secretpassword@h.example/', /credentials/],
    ['https://h.example/?token=x', /query/],
    ['https://h.example/#x', /fragment/],
  ])('%s is a config error that does not quote it', (base, message) => {
    const e = refusal(() => parseBaseUrl(base));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('secretpassword');
  });
});

describe('checkHttpAction validates the shape first', () => {
  it('returns the validated input and the URL', () => {
    const { input, url } = checkHttpAction(BASE, { method: 'POST', path: '/x', body: { a: 1 } });
    expect(input).toEqual({ method: 'POST', path: '/x', body: { a: 1 } });
    expect(url.href).toBe('https://api.example.com/api/v1/x');
  });
  it('refuses a bad shape with VALIDATION_FAILED before the safety check', () => {
    expect(refusal(() => checkHttpAction(BASE, { method: 'TRACE', path: '//evil' })).code).toBe('VALIDATION_FAILED');
    expect(refusal(() => checkHttpAction(BASE, { method: 'GET', path: '//evil' })).code).toBe('UNSAFE_REQUEST');
  });
});

describe('redirects are followed only under the base URL', () => {
  const current = new URL('https://h.example/api/x/y');
  const base = 'https://h.example/api';
  it.each([
    ['/api/z', 'https://h.example/api/z'],
    ['z', 'https://h.example/api/x/z'],
    ['../z', 'https://h.example/api/z'],
    ['https://h.example/api/z?page=2#frag', 'https://h.example/api/z?page=2'],
    ['/api', 'https://h.example/api'],
  ])('%s → %s', (location, href) => {
    const r = checkRedirect(base, current, location);
    expect(r).toMatchObject({ ok: true });
    if (r.ok) expect(r.url.href).toBe(href);
  });

  it.each([
    ['https://evil.example/api/z', /another origin/],
    ['//evil.example/api/z', /another origin/],
    ['http://h.example/api/z', /another origin/],
    ['https://h.example:8443/api/z', /another origin/],
    ['https://user:pw@h.example/api/z', /credentials/],
    ['/other', /outside/],
    ['/apix/z', /outside/],
    ['../../admin', /outside/],
    ['/api/%2e%2e/admin', /outside/],
    ['/api/a%2fb', /unsafe/],
    ['/api/a%252e', /unsafe/],
    ['/api//evil', /unsafe/],
    ['/api/%c0%ae%c0%ae/admin', /not UTF-8/],
    ['/api/%EF%BC%8E%EF%BC%8E/admin', /normalise/],
    ['http://[::1', /not a URL/],
  ])('%s is refused', (location, message) => {
    const r = checkRedirect(base, current, location);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});
