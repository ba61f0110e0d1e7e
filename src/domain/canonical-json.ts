import { hash } from 'node:crypto';

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function skipped(x: unknown): boolean {
  return x === undefined || typeof x === 'function' || typeof x === 'symbol';
}

/**
 * RFC 8785 (JCS) canonical JSON: object keys sorted by UTF-16 code units, numbers
 * and strings as ECMAScript's JSON.stringify writes them (which is what the RFC
 * specifies), no whitespace; NaN, Infinity and lone surrogates refused.
 *
 * Hand-written rather than taken from the `canonicalize` package: this runs three
 * times on every decision (the fingerprint and two audit entries), and that package
 * scans every string character by character in JavaScript; here one native regex
 * clears almost every string. Tested against the RFC's examples and its appendix B
 * number vectors (canonical-json.test.ts).
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return stringJson(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} cannot be canonicalised`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return canonicalJson((toJSON as () => unknown).call(value));
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const x: unknown = value[i];
          out += (i ? ',' : '') + (skipped(x) ? 'null' : canonicalJson(x));
        }
        return `${out}]`;
      }
      const o = value as Record<string, unknown>;
      const keys = sortedKeys(o);
      let out = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const x = o[k];
        if (skipped(x)) continue;
        out += `${first ? '' : ','}${keyJson(k)}:${canonicalJson(x)}`;
        first = false;
      }
      return `${out}}`;
    }
    case 'bigint':
    case 'undefined':
    case 'function':
    case 'symbol':
      throw new TypeError(`a ${typeof value} cannot be canonicalised`);
  }
}

/**
 * Keys in UTF-16 code unit order, as the RFC requires (what `<` on strings and the
 * default sort compare). Small objects, nearly all of them, are sorted by insertion in
 * place: Array.prototype.sort allocates a work array and its merge state (over a
 * kilobyte) on every call, which made it the largest source of garbage on the decision
 * path (measured with the sampling heap profiler).
 */
function sortedKeys(o: Record<string, unknown>): string[] {
  const keys = Object.keys(o);
  if (keys.length > 32) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/** What JSON.stringify escapes (quote, backslash, controls) and what needs the surrogate check. */
// eslint-disable-next-line no-control-regex -- the controls are what JSON.stringify escapes
const SPECIAL = /[\u0000-\u001f"\\\uD800-\uDFFF]/;

function stringJson(value: string): string {
  // Most strings (ids, timestamps, hashes, names) hold none: quoted as they are, one regex
  // test instead of two native calls (half the cost per string, measured).
  if (!SPECIAL.test(value)) return `"${value}"`;
  if (SURROGATE.test(value) && LONE_SURROGATE.test(value)) throw new TypeError('lone surrogates cannot be canonicalised');
  return JSON.stringify(value);
}

/**
 * Keys repeat on every decision (kind, target, input, requester...): their encoding is
 * kept, up to a bound, so that a key costs a map lookup instead of a surrogate scan and
 * a stringify. Only keys that encoded without error are kept.
 */
const KEYS = new Map<string, string>();
const MAX_KEYS = 4096;

function keyJson(k: string): string {
  let out = KEYS.get(k);
  if (out === undefined) {
    out = stringJson(k);
    if (KEYS.size < MAX_KEYS && k.length <= 64) KEYS.set(k, out);
  }
  return out;
}

export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}
