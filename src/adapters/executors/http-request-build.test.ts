import { describe, expect, it } from 'vitest';
import { afterRedirect, buildRequestHeaders, encodeBody } from './http-request-build.js';

describe('request building', () => {
  it('GET and HEAD never carry a body, even if one reaches this far', () => {
    for (const method of ['GET', 'HEAD'] as const) {
      const h = new Headers();
      expect(encodeBody(method, { a: 1 }, h)).toBeUndefined();
      expect(encodeBody(method, 'text', h)).toBeUndefined();
      expect(h.has('content-type')).toBe(false);
    }
  });

  it('JSON-encodes non-strings with application/json unless a content type is set', () => {
    const h = new Headers();
    expect(encodeBody('POST', [1, { b: true }], h)).toBe('[1,{"b":true}]');
    expect(h.get('content-type')).toBe('application/json');
    const own = new Headers({ 'Content-Type': 'application/vnd.x+json' });
    expect(encodeBody('PUT', 42, own)).toBe('42');
    expect(own.get('content-type')).toBe('application/vnd.x+json');
    expect(encodeBody('POST', 'as is', new Headers())).toBe('as is');
    expect(encodeBody('POST', null, new Headers())).toBeUndefined();
  });

  it('injected headers replace agent headers whatever their case', () => {
    const h = buildRequestHeaders({ AUTHORIZATION: 'agent', 'X-Other': '1' }, [['authorization', 'gateway']]);
    expect([...h.entries()]).toEqual([['authorization', 'gateway'], ['x-other', '1']]);
  });

  it('follows the Fetch standard on method changes after a redirect', () => {
    const h = () => new Headers({ 'content-type': 'application/json' });
    expect(afterRedirect(303, 'PUT', 'b', h())).toEqual({ method: 'GET', body: undefined });
    expect(afterRedirect(302, 'POST', 'b', h())).toEqual({ method: 'GET', body: undefined });
    expect(afterRedirect(301, 'POST', 'b', h())).toEqual({ method: 'GET', body: undefined });
    expect(afterRedirect(302, 'PUT', 'b', h())).toEqual({ method: 'PUT', body: 'b' });
    expect(afterRedirect(307, 'POST', 'b', h())).toEqual({ method: 'POST', body: 'b' });
    expect(afterRedirect(308, 'DELETE', 'b', h())).toEqual({ method: 'DELETE', body: 'b' });
    expect(afterRedirect(303, 'HEAD', undefined, h())).toEqual({ method: 'HEAD', body: undefined });
    const dropped = h();
    afterRedirect(303, 'POST', 'b', dropped);
    expect(dropped.has('content-type')).toBe(false);
  });
});
