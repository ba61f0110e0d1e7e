import { describe, expect, it } from 'vitest';
import type { AppError } from './errors.js';
import { MAX_JSON_DEPTH, checkJsonValue } from './json-check.js';

const codeOf = (v: unknown) => {
  try {
    checkJsonValue(v, 'input');
    return 'OK';
  } catch (e) {
    return `${(e as AppError).code} ${(e as AppError).message}`;
  }
};

describe('JSON values from clients', () => {
  it('accepts ordinary data, surrogate pairs included', () => {
    expect(codeOf({ a: [1, 'x', null, true, { b: '😀' }] })).toBe('OK');
  });

  it('refuses lone surrogates in values and keys, with the path', () => {
    expect(codeOf({ body: { name: 'a\ud800' } })).toMatch(/^VALIDATION_FAILED input\.body\.name: /);
    expect(codeOf({ ['\udc00']: 1 })).toMatch(/^VALIDATION_FAILED input: a key/);
  });

  it('refuses non-finite numbers (JSON.parse turns 1e400 into Infinity)', () => {
    expect(codeOf(JSON.parse('{"n": [1e400]}'))).toMatch(/^VALIDATION_FAILED input\.n\[0\]: numbers must be finite/);
  });

  it('refuses nesting beyond the limit without overflowing the stack itself', () => {
    const deep = (n: number) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown;
    expect(codeOf(deep(MAX_JSON_DEPTH))).toBe('OK');
    expect(codeOf(deep(MAX_JSON_DEPTH + 1))).toMatch(/nested deeper/);
    expect(codeOf(deep(100_000))).toMatch(/nested deeper/);
  });
});
