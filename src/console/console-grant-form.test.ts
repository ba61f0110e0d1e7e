import { describe, expect, it } from 'vitest';
import { isAppError } from '../domain/errors.js';
import { grantAskOfForm } from './console-grant-form.js';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isAppError(e) ? e.code : 'other';
  }
  return 'none';
};

describe('the "Approve and grant" form as a grant ask', () => {
  it('reads ttl, uses and an optional path pattern; a plain review asks for no grant', () => {
    expect(grantAskOfForm({ grant: 'yes', grantTtl: '30m', grantUses: '2' })).toEqual({ ttlMs: 1_800_000, uses: 2 });
    expect(grantAskOfForm({ grant: 'yes', grantTtl: '1h', grantUses: '3', grantPath: ' /v1/customers/*/export ' })).toEqual({ ttlMs: 3_600_000, uses: 3, path: '/v1/customers/*/export' });
    expect(grantAskOfForm({ grant: 'yes', grantTtl: '1h', grantUses: '3', grantPath: '' })).toEqual({ ttlMs: 3_600_000, uses: 3 });
    expect(grantAskOfForm({})).toBeUndefined();
  });

  it('malformed fields, or grant fields without "Approve and grant", are refused before anything is recorded', () => {
    expect(code(() => grantAskOfForm({ grant: 'yes', grantTtl: 'soon', grantUses: '3' }))).toBe('VALIDATION_FAILED');
    expect(code(() => grantAskOfForm({ grant: 'yes', grantTtl: '1h', grantUses: 'many' }))).toBe('VALIDATION_FAILED');
    expect(code(() => grantAskOfForm({ grant: 'yes', grantUses: '3' }))).toBe('VALIDATION_FAILED');
    expect(code(() => grantAskOfForm({ grantTtl: '1h', grantUses: '3' }))).toBe('VALIDATION_FAILED');
  });
});
