import { describe, expect, it } from 'vitest';
import type { BodyRule } from './http-body-read.js';
import { readHttpBody } from './http-body-read.js';
import { checkHttpAction } from './http-request-check.js';
import { parseMediaType } from './http-media-type.js';
import { parseStrictJson } from './json-strict-parse.js';
import { refusal } from '../../test/support/refusal.js';

const BASE = 'https://api.example.com/v1';
const JSON_CT = { 'content-type': 'application/json' };
const FORM_CT = { 'content-type': 'application/x-www-form-urlencoded' };

const post = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', path: '/users', headers, body });

describe('a body that the target could read otherwise than policy is refused with AMBIGUOUS_BODY', () => {
  const cases: Array<[string, unknown, Record<string, string>, BodyRule]> = [
    ['JSON that does not parse', '{"role":"admin"', JSON_CT, 'not-json'],
    ['JSON with a trailing second document', '{"role":"user"} {"role":"admin"}', JSON_CT, 'not-json'],
    ['JSON5-style single quotes', "{'role':'admin'}", JSON_CT, 'not-json'],
    ['a duplicate key (first wins in some parsers, last in others)', '{"role":"user","role":"admin"}', JSON_CT, 'duplicate-key'],
    ['a duplicate key spelled with an escape', '{"role":"user","r\\u006fle":"admin"}', JSON_CT, 'duplicate-key'],
    ['a duplicate key deep down', '{"a":[{"b":{"role":"user","role":"admin"}}]}', JSON_CT, 'duplicate-key'],
    ['keys that differ only in case (Go fills Role from either)', '{"role":"user","ROLE":"admin"}', JSON_CT, 'case-duplicate-key'],
    ['keys equal under Unicode case folding (ſ is s)', '{"roles":1,"roleſ":2}', JSON_CT, 'case-duplicate-key'],
    ['a byte order mark', '\ufeff{"role":"admin"}', JSON_CT, 'byte-order-mark'],
    ['a lone surrogate escape', '{"name":"\\ud800"}', JSON_CT, 'lone-surrogate'],
    ['a lone surrogate in a key', '{"\\udc00":1}', JSON_CT, 'lone-surrogate'],
    ['an integer beyond 2^53', '{"id":9007199254740993}', JSON_CT, 'imprecise-number'],
    ['a negative integer beyond 2^53', '[-9007199254740993]', JSON_CT, 'imprecise-number'],
    ['a number with too many digits', '{"amount":0.1000000000000000055511151231257827}', JSON_CT, 'imprecise-number'],
    ['a number that overflows a double', '{"n":1e400}', JSON_CT, 'imprecise-number'],
    ['a number that underflows a double', '{"n":1e-400}', JSON_CT, 'imprecise-number'],
    ['nesting deeper than 64', `${'['.repeat(70)}${']'.repeat(70)}`, JSON_CT, 'too-deep'],
    ['absurd nesting', `${'['.repeat(200_000)}${']'.repeat(200_000)}`, JSON_CT, 'too-deep'],
    ['a duplicate key in unlabelled JSON', '{"role":"user","role":"admin"}', {}, 'duplicate-key'],
    ['a duplicate key in JSON labelled text/plain', '{"role":"user","role":"admin"}', { 'content-type': 'text/plain' }, 'duplicate-key'],
    ['unlabelled JSON after a byte order mark', '\ufeff {"role":"admin"}', {}, 'byte-order-mark'],
    ['a charset other than UTF-8', '{"role":"admin"}', { 'content-type': 'application/json; charset=utf-16le' }, 'charset'],
    ['a list of content types', '{"role":"admin"}', { 'content-type': 'text/plain, application/json' }, 'content-type'],
    ['a repeated parameter', '{"role":"admin"}', { 'content-type': 'application/json; charset=utf-8; charset=latin1' }, 'content-type'],
    ['a content type that is not a media type', '{"role":"admin"}', { 'content-type': 'json' }, 'content-type'],
    ['an object body labelled as a form', { x: '&role=admin&' }, FORM_CT, 'object-not-json'],
    ['an object body labelled as text', { role: 'admin' }, { 'content-type': 'text/plain' }, 'object-not-json'],
    ['an object body with keys that differ only in case', { role: 'user', Role: 'admin' }, {}, 'case-duplicate-key'],
    ['a malformed percent escape in a form', 'role=adm%zzin', FORM_CT, 'form-encoding'],
    ['a truncated percent escape in a form', 'role=admin%4', FORM_CT, 'form-encoding'],
    ['a form escape that is not UTF-8 (overlong)', 'role=%c0%ae', FORM_CT, 'form-encoding'],
    ['a form escape that is an encoded surrogate', 'role=%ed%a0%80', FORM_CT, 'form-encoding'],
    ['a raw ; in a form (a separator to older servers)', 'role=user;role=admin', FORM_CT, 'form-separator'],
    ['a raw space in a form', 'role=ad min', FORM_CT, 'form-character'],
    ['raw non-ASCII in a form', 'role=été', FORM_CT, 'form-character'],
    ['a form written as JSON', '{"role":"admin"}', FORM_CT, 'form-json'],
  ];
  it.each(cases)('%s', (_name, body, headers, rule) => {
    const e = refusal(() => checkHttpAction(BASE, post(body, headers)));
    expect(e.code).toBe('AMBIGUOUS_BODY');
    expect(e.status).toBe(400);
    expect(e.details).toEqual({ field: 'body', rule });
  });

  it('the target\'s injected content type is the one the body is read by', () => {
    expect(refusal(() => checkHttpAction(BASE, post('{"a":1,"a":2}', { 'content-type': 'text/csv' }), 'application/json')).code).toBe('AMBIGUOUS_BODY');
    expect(refusal(() => checkHttpAction(BASE, post({ a: 1 }), 'application/x-www-form-urlencoded')).details).toEqual({ field: 'body', rule: 'object-not-json' });
  });
});

describe('bodies that read one way only are accepted, and the input keeps the exact string sent', () => {
  const ok: Array<[string, unknown, Record<string, string>]> = [
    ['JSON with whitespace around it', ' \n{"role":"user","n":1.5,"big":9007199254740991,"e":1e300}\n', JSON_CT],
    ['a JSON scalar', '"admin"', JSON_CT],
    ['big numbers and colons inside strings, which are text', '{"id":"9007199254740993","note":"1e400: a:b \\" c:d","k:e":1}', JSON_CT],
    ['JSON with an escaped key that is not a duplicate', '{"r\\u006fle":"user","x":"\\ud83d\\ude00"}', JSON_CT],
    ['JSON with the same key twice holding the same value (every parser reads it alike)', '{"a":1,"a":1}', JSON_CT],
    ['JSON with a __proto__ key, kept as data', '{"__proto__":{"role":"admin"}}', JSON_CT],
    ['a form with empty pairs and a bare name', 'a=1&&b&c=%20', FORM_CT],
    ['plain text that starts like JSON but is not', '{not json}', { 'content-type': 'text/plain' }],
    ['multipart text', '--b\r\nContent-Disposition: form-data; name="role"\r\n\r\nadmin\r\n--b--', { 'content-type': 'multipart/form-data; boundary=b' }],
    ['an object body with a JSON label', { role: 'user' }, { 'content-type': 'application/json' }],
    ['an object body without a label', { role: 'user' }, {}],
  ];
  it.each(ok)('%s', (_name, body, headers) => {
    const input = post(body, headers);
    expect(checkHttpAction(BASE, input).input.body).toBe(body);
  });

  it('a __proto__ key stays a field and does not change the prototype', () => {
    const r = readHttpBody(post('{"__proto__":{"role":"admin"}}', JSON_CT));
    expect(r.ok && Object.getPrototypeOf(r.read.value)).toBe(Object.prototype);
    expect(r.ok && Object.hasOwn(r.read.value as object, '__proto__')).toBe(true);
  });

  it('a form decodes as the WHATWG standard does', () => {
    const r = readHttpBody(post('a=1&&b&c=%20&a=x+y&%E2%9C%93=ok', FORM_CT));
    expect(r).toEqual({ ok: true, read: { kind: 'form', contentType: 'application/x-www-form-urlencoded', value: { a: ['1', 'x y'], b: '', c: ' ', '✓': 'ok' } } });
  });
});

describe('the body is read once per input object', () => {
  it('a second reading of the same input returns the same result; a changed body is read again', () => {
    const input = post('{"role":"admin"}', JSON_CT);
    const first = readHttpBody(input);
    expect(readHttpBody(input)).toBe(first);
    input.body = '{"role":"user"}';
    const second = readHttpBody(input);
    expect(second).not.toBe(first);
    expect(second.ok && second.read.value).toEqual({ role: 'user' });
    expect(readHttpBody(input, 'text/plain')).not.toBe(second);
  });
});

describe('media types are read strictly', () => {
  it('parses the essence in lower case and unquotes parameters', () => {
    const m = parseMediaType('Application/JSON ; Charset="utf-8"');
    expect(typeof m !== 'string' && [m.essence, m.params.get('charset')]).toEqual(['application/json', 'utf-8']);
  });
  it.each(['', 'application', 'application/json;', 'application/json; charset', 'a/b c', 'a/b, c/d'])('refuses %j', (v) => {
    expect(typeof parseMediaType(v)).toBe('string');
  });
});

describe('strict JSON numbers', () => {
  it('keeps numbers that every parser reads alike', () => {
    expect(parseStrictJson('[0, -0, 1.5, 123456789012345, 9007199254740991, 1e308, 2.5e-300, 0.000000000000001]')).toMatchObject({ ok: true });
  });
  it('refuses the first number a parser would round', () => {
    expect(parseStrictJson('[1.0000000000000001]')).toMatchObject({ ok: false, rule: 'imprecise-number' });
  });
});
