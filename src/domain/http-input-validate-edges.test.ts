// The edges of an http action's input check (found by the mutation campaign): each
// refusal's message and details, the limits at and just past their edge, and the
// character classes of header names and values.
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { HTTP_INPUT_LIMITS, isHeaderName, isHeaderValue, validateHttpInput } from './http-input-validate.js';

function refusal(input: unknown): { message: string; details: unknown } {
  try {
    validateHttpInput(input);
  } catch (e) {
    if (e instanceof AppError && e.code === 'VALIDATION_FAILED') return { message: e.message, details: e.details };
    throw e;
  }
  throw new Error('accepted');
}

const get = (extra: Record<string, unknown>) => ({ method: 'GET', path: '/x', ...extra });

describe('an http input: each refusal says what is wrong', () => {
  it('the input itself, its fields, method and path', () => {
    expect(refusal('x')).toEqual({ message: 'input must be an object with method and path', details: undefined });
    expect(refusal([])).toMatchObject({ message: 'input must be an object with method and path' });
    expect(refusal(get({ url: 'https://evil.example' }))).toEqual({ message: 'input.url is not a field of an http action (method, path, query, headers, body)', details: { key: 'url' } });
    expect(refusal({ method: 'get', path: '/x' })).toEqual({ message: 'input.method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS', details: { method: 'get' } });
    expect(refusal({ method: 7, path: '/x' })).toMatchObject({ details: { method: 7 } });
    expect(refusal({ method: 'GET', path: '' })).toMatchObject({ message: 'input.path must be a non-empty string starting with /' });
    expect(refusal({ method: 'GET', path: 5 })).toMatchObject({ message: 'input.path must be a non-empty string starting with /' });
    expect(refusal({ method: 'GET', path: `/${'a'.repeat(8192)}` })).toMatchObject({ message: 'input.path is longer than 8192 characters' });
    expect(refusal({ method: 'HEAD', path: '/x', body: 'x' })).toMatchObject({ message: 'a HEAD request has no body; remove input.body' });
    expect(refusal({ method: 'GET', path: '/x', body: 0 })).toMatchObject({ message: 'a GET request has no body; remove input.body' });
  });

  it('every method but TRACE and CONNECT is accepted, with a body where it may have one', () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) expect(validateHttpInput({ method, path: '/x' }).method).toBe(method);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) expect(validateHttpInput({ method, path: '/x', body: false }).body).toBe(false);
  });

  it('a path at its limit is accepted; the path is kept as given', () => {
    const path = `/${'a'.repeat(HTTP_INPUT_LIMITS.pathChars - 1)}`;
    expect(validateHttpInput({ method: 'GET', path }).path).toBe(path);
  });

  it('the query: an object of strings or string arrays, with well-formed keys and values, at most 256 keys', () => {
    expect(refusal(get({ query: 'a=b' }))).toEqual({ message: 'input.query must be an object of strings or string arrays', details: undefined });
    expect(refusal(get({ query: null }))).toMatchObject({ message: 'input.query must be an object of strings or string arrays' });
    expect(refusal(get({ query: { '': 'b' } }))).toEqual({ message: 'input.query keys must be non-empty well-formed strings', details: { key: '' } });
    expect(refusal(get({ query: { 'a\uDC00': 'b' } }))).toEqual({ message: 'input.query keys must be non-empty well-formed strings', details: { key: 'a\uDC00' } });
    expect(refusal(get({ query: { a: 1 } }))).toEqual({ message: 'input.query.a must be a string or an array of strings', details: { key: 'a' } });
    expect(refusal(get({ query: { a: ['b', 2] } }))).toEqual({ message: 'input.query.a must be a string or an array of strings', details: { key: 'a' } });
    expect(refusal(get({ query: { a: ['b', 'c\uD800'] } }))).toEqual({ message: 'input.query.a is not a well-formed string', details: { key: 'a' } });
    const at = Object.fromEntries(Array.from({ length: HTTP_INPUT_LIMITS.queryKeys }, (_, i) => [`k${i}`, 'v']));
    expect(Object.keys(validateHttpInput(get({ query: at })).query!)).toHaveLength(256);
    expect(refusal(get({ query: { ...at, extra: 'v' } }))).toMatchObject({ message: 'input.query has more than 256 keys' });
    // A surrogate pair (one emoji) is well formed; an empty array is no value at all.
    expect(validateHttpInput(get({ query: { '\uD83D\uDE00': ['\uD83D\uDE00'], e: [] } })).query).toEqual({ '\uD83D\uDE00': ['\uD83D\uDE00'], e: [] });
  });

  it('the headers: an object of strings, valid names given once, values of at most 8192 visible ASCII characters, at most 100', () => {
    expect(refusal(get({ headers: ['a'] }))).toEqual({ message: 'input.headers must be an object of strings', details: undefined });
    expect(refusal(get({ headers: { 'x a': 'b' } }))).toEqual({ message: 'header name "x a" is not a valid HTTP token', details: { header: 'x a' } });
    expect(refusal(get({ headers: { 'X-A': '1', 'x-a': '2' } }))).toEqual({ message: 'header "x-a" is given twice with different case', details: { header: 'x-a' } });
    expect(refusal(get({ headers: { 'x-a': 1 } }))).toEqual({ message: 'header "x-a" must be a string', details: { header: 'x-a' } });
    expect(refusal(get({ headers: { 'x-a': 'v'.repeat(8193) } }))).toEqual({ message: 'header "x-a" is longer than 8192 characters', details: { header: 'x-a' } });
    expect(refusal(get({ headers: { 'x-a': 'a\x7fb' } }))).toEqual({ message: 'header "x-a" holds a control character (CR, LF, NUL...) or a non-ASCII character', details: { header: 'x-a' } });
    expect(validateHttpInput(get({ headers: { 'x-a': 'v'.repeat(8192) } })).headers!['x-a']).toHaveLength(8192);
    const hundred = Object.fromEntries(Array.from({ length: HTTP_INPUT_LIMITS.headers }, (_, i) => [`x-${i}`, 'v']));
    expect(Object.keys(validateHttpInput(get({ headers: hundred })).headers!)).toHaveLength(100);
    expect(refusal(get({ headers: { ...hundred, 'x-extra': 'v' } }))).toMatchObject({ message: 'input.headers has more than 100 headers' });
    // Tab, space, the ends of visible ASCII, and an empty value are fine.
    expect(validateHttpInput(get({ headers: { 'x-a': '\t !~', 'x-b': '' } })).headers).toEqual({ 'x-a': '\t !~', 'x-b': '' });
    expect(refusal(get({ headers: { 'x-a': 'a\x1fb' } }))).toMatchObject({ details: { header: 'x-a' } });
  });

  it('header names are RFC 9110 tokens', () => {
    expect(isHeaderName("!#$%&'*+.^_`|~09azAZ-")).toBe(true);
    for (const bad of ['', 'a b', 'a:b', 'a(b', 'a"b', 'a\u00e9', 'a\nb', ' a', 'a ']) expect(isHeaderName(bad), JSON.stringify(bad)).toBe(false);
  });

  it('header values (as targets send them) may hold tab, space, visible ASCII and obs-text; never CR, LF, NUL or DEL', () => {
    expect(isHeaderValue('')).toBe(true);
    expect(isHeaderValue('\t ~\x80\xff caf\u00e9')).toBe(true);
    for (const bad of ['a\rb', 'a\nb', 'a\x00b', 'a\x7fb', 'a\x1fb', '\u0100', '\u2713']) expect(isHeaderValue(bad), JSON.stringify(bad)).toBe(false);
  });
});
