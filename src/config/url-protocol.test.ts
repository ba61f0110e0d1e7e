import { describe, expect, it } from 'vitest';
import { webhookSchema } from './channels-schema.js';
import { httpTargetSchema } from './schema.js';
import { isHttpUrl } from './url-protocol.js';

describe('http URL checks in the config schema', () => {
  it('isHttpUrl accepts http and https only, and never throws', () => {
    expect(isHttpUrl('https://example.test/x')).toBe(true);
    expect(isHttpUrl('http://127.0.0.1:9')).toBe(true);
    expect(isHttpUrl('ftp://example.test')).toBe(false);
    expect(isHttpUrl('http//127.0.0.1:9/hook')).toBe(false);
    expect(isHttpUrl('')).toBe(false);
  });

  it('a string that is not a URL is a config issue, not an exception (zod runs refinements after a failed .url())', () => {
    const hook = webhookSchema.safeParse({ name: 'pager', url: 'http//127.0.0.1:9/hook', secret: 'whsec_abcdefghijklmnop', events: ['action.pending'] });
    expect(hook.success).toBe(false);
    expect(hook.error?.issues.map((i) => i.path.join('.'))).toContain('url');
    const target = httpTargetSchema.safeParse({ kind: 'http', baseUrl: 'not a url' });
    expect(target.success).toBe(false);
    expect(target.error?.issues.some((i) => i.path.join('.') === 'baseUrl')).toBe(true);
  });
});
