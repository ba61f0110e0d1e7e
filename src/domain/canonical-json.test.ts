import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from './action.js';
import { canonicalJson } from './canonical-json.js';

function f64(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

describe('RFC 8785 canonical JSON', () => {
  it('serialises the RFC section 3.2.2 example exactly', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts properties by UTF-16 code units (RFC section 3.2.3)', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    ) as Record<string, string>;
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('serialises the IEEE 754 value %s as %s (RFC appendix B)', (hex, expected) => {
    expect(canonicalJson(f64(hex))).toBe(expected);
  });

  it('refuses NaN, Infinity and lone surrogates', () => {
    expect(() => canonicalJson(NaN)).toThrow('NaN cannot be canonicalised');
    expect(() => canonicalJson(f64('7ff0000000000000'))).toThrow('Infinity cannot be canonicalised');
    expect(() => canonicalJson({ s: '\ud800' })).toThrow('lone surrogates cannot be canonicalised');
  });
});

describe('fingerprints', () => {
  const base = { kind: 'http', target: 'github', input: { method: 'POST', path: '/x', body: { a: 1, b: [1, 2] } }, requester: 'bot' };

  it('are sha256 over the canonical form, so key order does not matter', () => {
    const reordered = { requester: 'bot', input: { body: { b: [1, 2], a: 1 }, path: '/x', method: 'POST' }, target: 'github', kind: 'http' };
    expect(fingerprintOf(base)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fingerprintOf(reordered)).toBe(fingerprintOf(base));
  });

  it('change with anything that defines the effect', () => {
    const fp = fingerprintOf(base);
    expect(fingerprintOf({ ...base, requester: 'other' })).not.toBe(fp);
    expect(fingerprintOf({ ...base, target: 'gitlab' })).not.toBe(fp);
    expect(fingerprintOf({ ...base, input: { ...base.input, body: { a: 1, b: [2, 1] } } })).not.toBe(fp);
    expect(fingerprintOf({ ...base, input: { ...base.input, path: '/x/' } })).not.toBe(fp);
  });
});

describe('canonical JSON edge cases', () => {
  it('omits undefined members and writes undefined array items as null, like JSON.stringify', () => {
    expect(canonicalJson({ b: undefined, a: [undefined, 1] })).toBe('{"a":[null,1]}');
  });

  it('treats functions and symbols as JSON.stringify does: members omitted, array items null', () => {
    const value = { f: () => 1, s: Symbol('x'), a: [() => 1, Symbol('y'), 2], k: 1 };
    expect(canonicalJson(value)).toBe('{"a":[null,null,2],"k":1}');
    expect(canonicalJson(value)).toBe(JSON.stringify({ a: value.a, k: 1 }));
  });

  it('accepts well-formed surrogate pairs and uses toJSON', () => {
    expect(canonicalJson({ e: '😀' })).toBe('{"e":"😀"}');
    expect(canonicalJson({ d: new Date(0) })).toBe('{"d":"1970-01-01T00:00:00.000Z"}');
  });

  it('refuses values JSON cannot hold', () => {
    expect(() => canonicalJson(10n)).toThrow('a bigint cannot be canonicalised');
    expect(() => canonicalJson(undefined)).toThrow('a undefined cannot be canonicalised');
    expect(() => canonicalJson(() => 1)).toThrow('a function cannot be canonicalised');
    expect(() => canonicalJson(Symbol('x'))).toThrow('a symbol cannot be canonicalised');
    expect(() => canonicalJson('\udc00x')).toThrow();
  });

  it('agrees with JSON.parse round trips on nested data', () => {
    const v = { z: { y: [1, 2.5, -0, 1e21, 'x'], a: null }, a: true };
    expect(canonicalJson(v)).toBe('{"a":true,"z":{"a":null,"y":[1,2.5,0,1e+21,"x"]}}');
    expect(JSON.parse(canonicalJson(v))).toEqual({ a: true, z: { a: null, y: [1, 2.5, 0, 1e21, 'x'] } });
  });
  it('writes every string as JSON.stringify does, and refuses exactly those with a lone surrogate', () => {
    // Plain text takes a shortcut (quoted as it is): quotes, backslashes, controls and surrogates must not.
    const unit = fc.oneof(fc.constantFrom('"', '\\', '\u0000', '\n', '\u001f', '\u007f', '\u2028', '\ud83d', '\ude00', '\ud800'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (s) => {
        const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
        if (lone) expect(() => canonicalJson(s)).toThrow('lone surrogates cannot be canonicalised');
        else expect(canonicalJson({ [s]: s })).toBe(`{${JSON.stringify(s)}:${JSON.stringify(s)}}`);
      }),
      { numRuns: 2000 },
    );
  });
  it('orders keys as the default sort does, for small objects (sorted in place) and large ones', () => {
    // Keys from every plane (surrogate pairs sort by code unit, below U+E000), 0 to 60 of them: both sides of the 32-key switch.
    // Digits too: integer-like keys ("10", "9") come first from Object.keys, in numeric order, not in code-unit order.
    const key = fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '0', '1', '9', '_', '\u00e9', '\u20ac', '\ud83d\ude00', '\ufb33', '\r'), maxLength: 4 });
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 60 }), (keys) => {
        const o = Object.fromEntries(keys.map((k, i) => [k, i]));
        const expected = `{${Object.keys(o)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${o[k]}`)
          .join(',')}}`;
        expect(canonicalJson(o)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
