import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { base64Core } from './redact-forms.js';
import { createRedactor, REDACTED } from './redact-secrets.js';

const SECRET = 'sk_live_Q7x9Kp2mZ4vB8nR1';
const r = createRedactor([SECRET]);
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const hex = (s: string) => Buffer.from(s).toString('hex');

describe('redacting a secret the target echoes back in another form', () => {
  it('redacts it as written', () => {
    expect(r.text(`token=${SECRET};`)).toBe(`token=${REDACTED};`);
  });

  it('redacts it upper-cased, lower-cased or in mixed case', () => {
    expect(r.text(`x ${SECRET.toUpperCase()} y`)).toBe(`x ${REDACTED} y`);
    expect(r.text(`x ${SECRET.toLowerCase()} y`)).toBe(`x ${REDACTED} y`);
  });

  it('redacts it with its last character cut off, and any run of 8 of its characters', () => {
    expect(r.text(`x ${SECRET.slice(0, -1)} y`)).toBe(`x ${REDACTED} y`);
    expect(r.text(`x ${SECRET.slice(5, 13)} y`)).toBe(`x ${REDACTED} y`);
    // Seven characters are below the window: ordinary text.
    expect(r.text(`x ${SECRET.slice(5, 12)} y`)).toBe(`x ${SECRET.slice(5, 12)} y`);
  });

  it('redacts it hex-encoded, in either case', () => {
    expect(r.text(`h=${hex(SECRET)}!`)).toBe(`h=${REDACTED}!`);
    expect(r.text(`h=${hex(SECRET).toUpperCase()}!`)).toBe(`h=${REDACTED}!`);
  });

  it('redacts it URL-encoded: every byte or only reserved ones, either hex case, + for space', () => {
    const spaced = createRedactor(['pass word/with+odd&chars']);
    expect(spaced.text(`q=${encodeURIComponent('pass word/with+odd&chars')}&n=1`)).toBe(`q=${REDACTED}&n=1`);
    expect(spaced.text(`q=${new URLSearchParams({ a: 'pass word/with+odd&chars' }).toString().slice(2)}&n=1`)).toBe(`q=${REDACTED}&n=1`);
    const every = [...Buffer.from(SECRET)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    expect(r.text(`q=${every}`)).toBe(`q=${REDACTED}`);
    expect(r.text(`q=${every.toUpperCase()}`)).toBe(`q=${REDACTED}`);
  });

  it('redacts it base64- and base64url-encoded, alone or inside a larger blob at every alignment', () => {
    expect(r.text(b64(SECRET))).not.toContain(b64(SECRET).slice(0, 12));
    expect(r.text(b64(SECRET))).toBe(REDACTED);
    for (const user of ['u', 'us', 'use', 'user']) {
      const basic = `Basic ${b64(`${user}:${SECRET}`)}`;
      const out = r.text(basic);
      expect(out).toContain(REDACTED);
      expect(Buffer.from(out.slice(6), 'base64').toString('latin1')).not.toContain(SECRET.slice(0, 8));
      for (let align = 0; align < 3; align++) expect(out).not.toContain(base64Core(Buffer.from(SECRET.slice(4, 12)), align));
    }
    const url = b64url(Buffer.concat([Buffer.from([0xfb, 0xff]), Buffer.from(SECRET)]));
    expect(r.text(url)).not.toContain(base64Core(Buffer.from(SECRET.slice(0, 8)), 2).replace(/\+/g, '-').replace(/\//g, '_'));
  });

  it('redacts it as UTF-16 (LE and BE) inside a binary body, scanning the bytes', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(SECRET, 'utf16le'), Buffer.from([0x80])]);
    const be = Buffer.from(Buffer.from(SECRET, 'utf16le')).swap16();
    for (const body of [le, be]) {
      const out = Buffer.from(r.bytes(body));
      expect(out.includes(REDACTED)).toBe(true);
      expect(out.includes(Buffer.from(SECRET.slice(0, 8), 'utf16le'))).toBe(false);
      expect(out.includes(Buffer.from(Buffer.from(SECRET.slice(0, 8), 'utf16le')).swap16())).toBe(false);
    }
    expect(Buffer.from(r.bytes(Buffer.from([0x00, 0x01, ...Buffer.from(SECRET), 0xff]))).toString('latin1')).toBe(`\x00\x01${REDACTED}\xff`);
  });

  it('replaces the union of overlapping matches once', () => {
    const two = createRedactor(['abcdefghijkl', 'ghijklmnopqr']);
    expect(two.text('--abcdefghijklmnopqr--')).toBe(`--${REDACTED}--`);
    expect(two.text(`--${'abcdefghijkl'.toUpperCase()}mnopqr ${hex('abcdefghijkl')}--`)).toBe(`--${REDACTED} ${REDACTED}--`);
  });

  it('leaves text without secrets, and texts under a redactor with no secrets, untouched', () => {
    const text = 'An ordinary response: {"id": 42, "q": "a%20b", "blob": "SGVsbG8gd29ybGQ="}';
    expect(r.text(text)).toBe(text);
    expect(createRedactor([]).text(`${SECRET}`)).toBe(SECRET);
  });

  it('has a known limit: a stray % before a URL-encoded echo can hide its first two characters, so it takes window + 2 to be sure', () => {
    const short = createRedactor(['aa+aaaaa']);
    // `%aa` reads as one byte in the percent-decoded view: six characters are left.
    expect(short.text('%aa%2Baaaaa')).toBe('%aa%2Baaaaa');
    const long = createRedactor(['aa+aaaaaaa']);
    expect(long.text('%aa%2Baaaaaaa')).toBe(`%aa${REDACTED}`);
  });

  it('honours a longer window: a run shorter than it is kept', () => {
    const wide = createRedactor([SECRET], { window: 12 });
    expect(wide.text(`x ${SECRET.slice(0, 11)} y`)).toBe(`x ${SECRET.slice(0, 11)} y`);
    expect(wide.text(`x ${SECRET.slice(0, 12)} y`)).toBe(`x ${REDACTED} y`);
  });

  it('redacts inside JSON strings, keeping a __proto__ key as data through canonical JSON', () => {
    const parsed = JSON.parse(`{"__proto__":{"k":"${SECRET}"},"list":["${hex(SECRET)}",1,null],"n":2}`) as Record<string, unknown>;
    const out = r.deep(parsed);
    expect(Object.keys(out)).toEqual(['__proto__', 'list', 'n']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe(`{"__proto__":{"k":"${REDACTED}"},"list":["${REDACTED}",1,null],"n":2}`);
    expect(canonicalJson(out)).toBe(`{"__proto__":{"k":"${REDACTED}"},"list":["${REDACTED}",1,null],"n":2}`);
  });
});

describe('redaction property: a run of 8+ characters of a secret never survives in any form', () => {
  const secretArb = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/=:!$é€😀 '.split(/(?:)/u)), minLength: 8, maxLength: 40 });
  const noise = fc.string({ maxLength: 30 });
  const pick = fc.tuple(secretArb, fc.nat(), fc.nat(), noise, noise);
  const forms: Record<string, (run: string) => string> = {
    raw: (x) => x,
    upper: (x) => x.toUpperCase(),
    lower: (x) => x.toLowerCase(),
    url: (x) => encodeURIComponent(x),
    form: (x) => new URLSearchParams({ a: x }).toString().slice(2),
    hexLower: (x) => hex(x),
    hexUpper: (x) => hex(x).toUpperCase(),
  };

  for (const [name, encode] of Object.entries(forms)) {
    it(`${name}: the encoded run is gone from the output`, () => {
      fc.assert(
        fc.property(pick, ([secret, a, b, before, after]) => {
          const units = [...secret];
          const len = 8 + (a % Math.max(1, units.length - 7));
          const start = b % (units.length - Math.min(len, units.length) + 1);
          const run = units.slice(start, start + len).join('');
          const form = encode(run);
          // A stray `%` or `%H` just before the echo is a known limit (tested below).
          fc.pre(!/%[0-9a-fA-F]?$/.test(before));
          const out = createRedactor([secret], { credentials: [secret] }).text(`${before}${form}${after}`);
          // ASCII case folding only: upper-casing a non-ASCII character is out of scope.
          if ([...run].some((ch) => ch.charCodeAt(0) > 0x7f) && (name === 'upper' || name === 'lower')) return;
          expect(out.includes(form)).toBe(false);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('base64 and base64url at every alignment: the characters the run alone fixes are gone', () => {
    fc.assert(
      fc.property(pick, fc.uint8Array({ maxLength: 5 }), fc.uint8Array({ maxLength: 5 }), fc.boolean(), ([secret, a, b], pre, post, url) => {
        const bytes = Buffer.from(secret);
        const len = 8 + (a % Math.max(1, bytes.length - 7));
        const start = b % (bytes.length - Math.min(len, bytes.length) + 1);
        const run = bytes.subarray(start, start + len);
        const blob = Buffer.concat([pre, run, post]);
        const encoded = url ? blob.toString('base64url') : blob.toString('base64');
        let core = base64Core(run, pre.length % 3);
        if (url) core = core.replace(/\+/g, '-').replace(/\//g, '_');
        expect(createRedactor([secret], { credentials: [secret] }).text(`x ${encoded} y`).includes(core)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('UTF-8, UTF-16LE and UTF-16BE in bytes: the run is gone', () => {
    fc.assert(
      fc.property(pick, fc.uint8Array({ maxLength: 9 }), fc.uint8Array({ maxLength: 9 }), fc.constantFrom('utf8', 'utf16le', 'utf16be'), ([secret, a, b], pre, post, enc) => {
        // UTF-8 runs are of characters (a cut surrogate pair is not the secret's bytes); UTF-16 runs of code units.
        const units = enc === 'utf8' ? [...secret] : secret.split('');
        const len = 8 + (a % Math.max(1, units.length - 7));
        const start = b % (units.length - Math.min(len, units.length) + 1);
        const run = units.slice(start, start + len).join('');
        let form = Buffer.from(run, enc === 'utf8' ? 'utf8' : 'utf16le');
        if (enc === 'utf16be') form = Buffer.from(form).swap16();
        const out = Buffer.from(createRedactor([secret], { credentials: [secret] }).bytes(Buffer.concat([pre, form, post])));
        expect(out.includes(form)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
