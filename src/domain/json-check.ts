import { AppError } from './errors.js';

/** Deeper JSON than this is refused: nothing an agent needs, and deep nesting is a way to exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Refuses what JSON.parse accepts but canonical JSON (and so fingerprints and audit
 * entries) cannot hold: lone surrogates, non-finite numbers (`1e400` parses as
 * Infinity), and nesting deeper than MAX_JSON_DEPTH. Iterative, so that the check
 * itself cannot overflow the stack.
 */
export function checkJsonValue(value: unknown, field: string): void {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: field, depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) throw new AppError('VALIDATION_FAILED', `${path}: holds a lone UTF-16 surrogate, which JSON text cannot carry`, { path });
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new AppError('VALIDATION_FAILED', `${path}: numbers must be finite`, { path });
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_JSON_DEPTH) throw new AppError('VALIDATION_FAILED', `${path}: nested deeper than ${MAX_JSON_DEPTH} levels`, { path });
      if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: `${path}[${i}]`, depth: depth + 1 }));
      else
        for (const [k, x] of Object.entries(v)) {
          if (LONE_SURROGATE.test(k)) throw new AppError('VALIDATION_FAILED', `${path}: a key holds a lone UTF-16 surrogate`, { path });
          stack.push({ v: x, path: `${path}.${k}`, depth: depth + 1 });
        }
    }
  }
}
