import { describe, expect, it } from 'vitest';
import { decodeBody, jsonTooDeep, MAX_JSON_DEPTH, readCapped, selectHeaders, trimPartialSecret } from './http-response-read.js';
import { createRedactor } from '../../domain/redact-secrets.js';

const SECRET = 'sk_live_abcdef123456';

function stream(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(new TextEncoder().encode(x));
      c.close();
    },
  });
}

describe('response reading', () => {
  it('reads up to the cap across chunks and flags truncation', async () => {
    const cut = await readCapped(stream('abc', 'def'), 4);
    expect(Buffer.from(cut.bytes).toString()).toBe('abcd');
    expect(cut.truncated).toBe(true);
    const whole = await readCapped(stream('abc', 'def'), 6);
    expect(Buffer.from(whole.bytes).toString()).toBe('abcdef');
    expect(whole.truncated).toBe(false);
    const none = await readCapped(null, 10);
    expect([none.bytes.byteLength, none.truncated]).toEqual([0, false]);
  });

  it('drops a multi-byte character cut in half by the cap instead of calling the body binary', () => {
    const bytes = Buffer.from('aé').subarray(0, 2);
    expect(decodeBody(bytes, true, 'text/plain', createRedactor([]))).toEqual({ body: 'a', bodyEncoding: 'text' });
    expect(decodeBody(bytes, false, 'text/plain', createRedactor([])).bodyEncoding).toBe('base64');
  });

  it('drops the start of a secret left at the end of a truncated body', () => {
    expect(trimPartialSecret(`abc ${SECRET.slice(0, 7)}`, [SECRET])).toBe('abc ');
    expect(trimPartialSecret('abc sk', [SECRET])).toBe('abc ');
    expect(trimPartialSecret('abc def', [SECRET])).toBe('abc def');
  });

  it('keeps only the selected headers, redacted, never set-cookie', () => {
    const h = new Headers({ 'Content-Type': 'text/plain', 'Set-Cookie': 'a=b', 'X-RateLimit-Remaining': '9', 'RateLimit-Reset': '3', Server: 'x', 'X-Request-Id': `id-${SECRET}`, Link: '<https://h/?page=2>; rel="next"' });
    expect(selectHeaders(h, createRedactor([SECRET]))).toEqual({
      'content-type': 'text/plain',
      'x-ratelimit-remaining': '9',
      'ratelimit-reset': '3',
      'x-request-id': 'id-[REDACTED]',
      link: '<https://h/?page=2>; rel="next"',
    });
  });

  it('keeps JSON nested deeper than MAX_JSON_DEPTH as text', () => {
    const deep = `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`;
    const ok = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
    expect(decodeBody(Buffer.from(deep), false, 'application/json', createRedactor([])).bodyEncoding).toBe('text');
    expect(decodeBody(Buffer.from(ok), false, 'application/json', createRedactor([])).bodyEncoding).toBe('json');
    expect(jsonTooDeep(`{"a":"${'['.repeat(100)}\\"["}`, 2)).toBe(false);
    expect(jsonTooDeep('[[[1]]]', 2)).toBe(true);
  });

  describe('a credential the target echoes in another form is redacted', () => {
    const redactor = createRedactor([SECRET]);
    const echoes: Array<[string, string]> = [
      ['base64', Buffer.from(SECRET).toString('base64')],
      ['base64 inside Basic user:secret', `Basic ${Buffer.from(`user:${SECRET}`).toString('base64')}`],
      ['base64url', Buffer.from(`~${SECRET}`).toString('base64url')],
      ['hex', Buffer.from(SECRET).toString('hex')],
      ['upper-cased hex', Buffer.from(SECRET).toString('hex').toUpperCase()],
      ['upper-cased', SECRET.toUpperCase()],
      ['URL-encoded', encodeURIComponent(`${SECRET}&`).replace(/_/g, '%5F')],
      ['its last character cut off', SECRET.slice(0, -1)],
    ];
    it.each(echoes)('%s, in a text body, a JSON string and a header', (_name, echo) => {
      const text = decodeBody(Buffer.from(`echo: ${echo}.`), false, 'text/plain', redactor);
      expect(text.body).not.toContain(echo);
      expect(text.body).toContain('[REDACTED]');
      const json = decodeBody(Buffer.from(JSON.stringify({ echo })), false, 'application/json', redactor);
      expect(json.bodyEncoding).toBe('json');
      expect(JSON.stringify(json.body)).not.toContain(echo);
      expect(selectHeaders(new Headers({ 'x-request-id': echo }), redactor)['x-request-id']).not.toContain(echo);
    });

    it('as UTF-16 inside a binary body, before the body is base64-encoded', () => {
      for (const bytes of [Buffer.from(SECRET, 'utf16le'), Buffer.from(SECRET, 'utf16le').swap16()]) {
        const body = decodeBody(Buffer.concat([Buffer.from([0xff, 0xfe]), bytes, Buffer.from([0x80])]), false, 'application/octet-stream', redactor);
        expect(body.bodyEncoding).toBe('base64');
        const out = Buffer.from(body.body as string, 'base64');
        expect(out.includes(bytes.subarray(0, 16))).toBe(false);
        expect(out.toString('latin1')).toContain('[REDACTED]');
      }
    });
  });

  it('keeps a __proto__ key of a JSON response as data, not as a prototype', () => {
    const body = decodeBody(Buffer.from('{"__proto__":{"admin":true},"id":1}'), false, 'application/json', createRedactor([SECRET])).body as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['__proto__', 'id']);
    expect(JSON.stringify(body)).toBe('{"__proto__":{"admin":true},"id":1}');
    expect((body as { admin?: unknown }).admin).toBeUndefined();
  });
});
