import { parse } from 'lossless-json';
import { MAX_JSON_DEPTH } from './json-check.js';

/**
 * JSON text read the way every common parser reads it, or refused. Parsers agree on
 * plain JSON but not on its corners: which of two duplicate keys wins (first, last, an
 * error), whether `ROLE` fills a field named `role` (Go's encoding/json does), whether
 * 9007199254740993 stays exact (Python, Go's json.Number) or is rounded (JavaScript),
 * whether a byte order mark is skipped, what a lone surrogate becomes. A body in one of
 * these corners could mean one thing to policy and another to the target, so it is
 * refused. JSON.parse reads the value; a scan of the text finds what it hides (a
 * duplicate key, a number's exact text); lossless-json, which reports duplicate keys and
 * hands over each number's text, names the problem when the scan finds a duplicate.
 */

export const JSON_BODY_RULES = ['not-json', 'byte-order-mark', 'duplicate-key', 'case-duplicate-key', 'imprecise-number', 'lone-surrogate', 'too-deep'] as const;
export type JsonBodyRule = (typeof JSON_BODY_RULES)[number];

export type StrictJson = { ok: true; value: unknown } | { ok: false; rule: JsonBodyRule; message: string };

class Refusal extends Error {
  constructor(
    readonly rule: JsonBodyRule,
    message: string,
  ) {
    super(message);
  }
}

/** Doubles keep 15 significant decimal digits exactly; past that, parsers round differently or not at all. */
const MAX_DIGITS = 15;
const MIN_NORMAL = 2.2250738585072014e-308;
const NUMBER = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

function strictNumber(text: string): number {
  const n = Number(text);
  const m = NUMBER.exec(text)!;
  if (m[2] === undefined && m[3] === undefined) {
    // An integer: exact everywhere only within ±(2^53 - 1).
    if (!Number.isSafeInteger(n)) throw new Refusal('imprecise-number', `the number ${text.slice(0, 40)} is beyond ±(2^53 - 1), where parsers disagree on its value`);
    return n;
  }
  const digits = (m[1]! + (m[2] ?? '')).replace(/^0+/, '').replace(/0+$/, '');
  if (digits.length > MAX_DIGITS) throw new Refusal('imprecise-number', `the number ${text.slice(0, 40)} has more than ${MAX_DIGITS} significant digits, which parsers round differently`);
  if (!Number.isFinite(n) || (digits !== '' && Math.abs(n) < MIN_NORMAL)) throw new Refusal('imprecise-number', `the number ${text.slice(0, 40)} is out of the range of a double`);
  return n;
}

function duplicate({ key }: { key: string }): never {
  throw new Refusal('duplicate-key', `the key ${JSON.stringify(key.slice(0, 64))} is given twice in one object`);
}

const NOT_PARSED = Symbol('not parsed');

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Full case folding as Go's encoding/json and case-insensitive Jackson apply it (ſ is s, K is k). */
const fold = (k: string): string => k.toUpperCase().toLowerCase();

/**
 * Surrogates, depth and keys that differ only in case, over the parsed value; returns
 * how many object keys it holds. Iterative, so depth cannot overflow the stack.
 */
function checkParsed(value: unknown): number {
  let keyCount = 0;
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  while (stack.length) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) throw new Refusal('lone-surrogate', 'a string holds a lone UTF-16 surrogate (\\ud800...), which parsers replace, keep or refuse');
    } else if (typeof v === 'object' && v !== null) {
      if (depth >= MAX_JSON_DEPTH) throw new Refusal('too-deep', `the JSON is nested deeper than ${MAX_JSON_DEPTH} levels`);
      if (Array.isArray(v)) {
        for (const x of v) stack.push({ v: x, depth: depth + 1 });
        continue;
      }
      const keys = Object.keys(v);
      keyCount += keys.length;
      const folded = keys.length > 1 ? new Set<string>() : undefined;
      for (const k of keys) {
        if (LONE_SURROGATE.test(k)) throw new Refusal('lone-surrogate', 'a key holds a lone UTF-16 surrogate (\\ud800...), which parsers replace, keep or refuse');
        if (folded) {
          const f = fold(k);
          if (folded.has(f)) throw new Refusal('case-duplicate-key', `two keys differ only in case (${JSON.stringify(k.slice(0, 64))}): case-insensitive parsers (Go) take either`);
          folded.add(f);
        }
        stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1 });
      }
    }
  }
  return keyCount;
}

/**
 * One pass over valid JSON text, outside strings: counts object members (every `:`
 * there separates a key from its value) and vets the number tokens that could be
 * imprecise (an exponent, or more than 15 characters). Throws Refusal on such a number.
 */
function scanMembers(text: string): number {
  let members = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x3a) members++;
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      let exponent = false;
      for (; i + 1 < n; i++) {
        const d = text.charCodeAt(i + 1);
        if (d === 0x65 || d === 0x45) exponent = true;
        else if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x2d || d === 0x2b)) break;
      }
      if (exponent || i + 1 - start > MAX_DIGITS) strictNumber(text.slice(start, i + 1));
    }
  }
  return members;
}

/** Why an already parsed value (an object body) could be read two ways, or undefined. */
export function jsonValueProblem(value: unknown): { rule: JsonBodyRule; message: string } | undefined {
  try {
    checkParsed(value);
    return undefined;
  } catch (e) {
    if (e instanceof Refusal) return { rule: e.rule, message: e.message };
    throw e;
  }
}

export function parseStrictJson(text: string): StrictJson {
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, rule: 'byte-order-mark', message: 'the JSON starts with a byte order mark, which some parsers skip and others refuse' };
  try {
    // Fast path: the native parser, then one scan; when the text has more members than
    // the value has keys (a duplicate), lossless-json reads it again and names the key.
    let fast: unknown;
    try {
      fast = JSON.parse(text);
    } catch {
      fast = NOT_PARSED;
    }
    if (fast !== NOT_PARSED && scanMembers(text) === checkParsed(fast)) return { ok: true, value: fast };
    const value = parse(text, null, { parseNumber: strictNumber, onDuplicateKey: duplicate });
    checkParsed(value);
    return { ok: true, value };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, rule: e.rule, message: e.message };
    // Stack exhaustion on absurd nesting is a refusal like any other.
    if (e instanceof RangeError) return { ok: false, rule: 'too-deep', message: `the JSON is nested deeper than ${MAX_JSON_DEPTH} levels` };
    return { ok: false, rule: 'not-json', message: `it is not valid JSON (${(e as Error).message.slice(0, 120)})` };
  }
}
