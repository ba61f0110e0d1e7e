import { describe, expect, it } from 'vitest';
import { credentialCores, credentialVariants, redactHeaders } from './redact.js';

describe('credential headers', () => {
  it('an agent header named __proto__ stays a header in API views, not a prototype', () => {
    const h = JSON.parse('{"__proto__":"x","Authorization":"Bearer abc"}') as Record<string, string>;
    const out = redactHeaders(h)!;
    expect(Object.keys(out)).toEqual(['__proto__', 'Authorization']);
    expect(JSON.stringify(out)).toBe('{"__proto__":"x","Authorization":"[REDACTED]"}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('the credential part and a Basic password are matched by runs; the whole value and the user:password pair only whole', () => {
    const basic = `Basic ${Buffer.from('svc-user:pa55word-long').toString('base64')}`;
    expect(credentialCores(basic)).toEqual([Buffer.from('svc-user:pa55word-long').toString('base64'), 'pa55word-long']);
    expect(credentialVariants(basic)).toEqual(expect.arrayContaining([basic, 'svc-user:pa55word-long']));
    expect(credentialCores('Bearer tok_live_123456')).toEqual(['tok_live_123456']);
  });
});
