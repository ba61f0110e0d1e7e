import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { HTTP_INPUT_LIMITS, validateHttpInput } from './http-input-validate.js';

function code(input: unknown): string | undefined {
  try {
    validateHttpInput(input);
    return undefined;
  } catch (e) {
    if (e instanceof AppError) return e.code;
    throw e;
  }
}

describe('validateHttpInput', () => {
  it('accepts a full input and returns only its known fields', () => {
    const input = { method: 'POST', path: '/x', query: { a: 'b', c: ['d', 'e'] }, headers: { 'X-Trace': 'a b\tc', Accept: 'application/json' }, body: { k: [1] } };
    expect(validateHttpInput(input)).toEqual(input);
    expect(validateHttpInput({ method: 'GET', path: '/x' })).toEqual({ method: 'GET', path: '/x' });
  });

  it('treats a null body as no body, also on GET', () => {
    expect(validateHttpInput({ method: 'GET', path: '/x', body: null })).toEqual({ method: 'GET', path: '/x' });
    expect(validateHttpInput({ method: 'POST', path: '/x', body: null })).toEqual({ method: 'POST', path: '/x' });
  });

  it.each([
    ['not an object', 'x'],
    ['an array', [{ method: 'GET', path: '/' }]],
    ['null', null],
    ['an unknown field', { method: 'GET', path: '/x', url: 'https://evil.example' }],
    ['a lower-case method', { method: 'get', path: '/x' }],
    ['TRACE', { method: 'TRACE', path: '/x' }],
    ['CONNECT', { method: 'CONNECT', path: '/x' }],
    ['no method', { path: '/x' }],
    ['no path', { method: 'GET' }],
    ['an empty path', { method: 'GET', path: '' }],
    ['a numeric path', { method: 'GET', path: 1 }],
    ['an over-long path', { method: 'GET', path: `/${'a'.repeat(HTTP_INPUT_LIMITS.pathChars)}` }],
    ['a query that is an array', { method: 'GET', path: '/x', query: ['a'] }],
    ['a numeric query value', { method: 'GET', path: '/x', query: { a: 1 } }],
    ['a nested query array', { method: 'GET', path: '/x', query: { a: [['b']] } }],
    ['an object query value', { method: 'GET', path: '/x', query: { a: { b: 'c' } } }],
    ['an empty query key', { method: 'GET', path: '/x', query: { '': 'c' } }],
    ['a lone surrogate in a query value', { method: 'GET', path: '/x', query: { a: '\ud800' } }],
    ['headers that are a string', { method: 'GET', path: '/x', headers: 'a: b' }],
    ['a header name with a space', { method: 'GET', path: '/x', headers: { 'x a': 'b' } }],
    ['a header name with a colon', { method: 'GET', path: '/x', headers: { ':authority': 'evil.example' } }],
    ['an empty header name', { method: 'GET', path: '/x', headers: { '': 'b' } }],
    ['a header value with CRLF', { method: 'GET', path: '/x', headers: { 'x-a': 'b\r\nHost: evil.example' } }],
    ['a header value with LF', { method: 'GET', path: '/x', headers: { 'x-a': 'b\nc' } }],
    ['a header value with NUL', { method: 'GET', path: '/x', headers: { 'x-a': 'b\u0000' } }],
    ['a non-Latin-1 header value', { method: 'GET', path: '/x', headers: { 'x-a': '✓' } }],
    // obs-text: Latin-1 to some servers, an overlong UTF-8 `.` to others (issue 12 §5).
    ['a header value with obs-text bytes', { method: 'GET', path: '/x', headers: { 'x-a': '\u00c0\u00ae\u00c0\u00ae' } }],
    ['a header value with a Latin-1 letter', { method: 'GET', path: '/x', headers: { 'x-a': 'caf\u00e9' } }],
    ['a numeric header value', { method: 'GET', path: '/x', headers: { 'x-a': 1 } }],
    ['a header given twice in different case', { method: 'GET', path: '/x', headers: { 'X-A': '1', 'x-a': '2' } }],
    ['too many headers', { method: 'GET', path: '/x', headers: Object.fromEntries(Array.from({ length: HTTP_INPUT_LIMITS.headers + 1 }, (_, i) => [`x-${i}`, 'v'])) }],
    ['an over-long header value', { method: 'GET', path: '/x', headers: { 'x-a': 'v'.repeat(HTTP_INPUT_LIMITS.headerValueChars + 1) } }],
    ['a GET with a body', { method: 'GET', path: '/x', body: { a: 1 } }],
    ['a GET with an empty string body', { method: 'GET', path: '/x', body: '' }],
    ['a HEAD with a body', { method: 'HEAD', path: '/x', body: 'x' }],
  ])('refuses %s with VALIDATION_FAILED', (_what, input) => {
    expect(code(input)).toBe('VALIDATION_FAILED');
  });
});
