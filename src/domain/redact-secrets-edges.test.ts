// Edges of the secret redactor the mutation campaign found untested (docs/reliability.md):
// UTF-8 at every encoding boundary and lone surrogates, the percent-decoded view's reach,
// how matches are merged and widened, the fast paths, and what the redactor reports.
// Every test builds its own redactor (Stryker's per-test coverage sees only what runs inside a test).
import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED } from './redact-secrets.js';

const SECRET = 'sk_live_Q7x9Kp2mZ4vB8nR1';
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('the secret redactor, at its edges', () => {
  it('redacts a secret whose characters sit at every UTF-8 length boundary, leaving nothing of it', () => {
    // 1, 2, 3 and 4 UTF-8 bytes, each at both ends of its range, and both ends of the surrogate pairs.
    const secret = 'a\u007f\u0080\u07ff\u0800\ud7ff\ue000\uffff\ud800\udc00\udbff\udfffz';
    const red = createRedactor([secret]);
    expect(red.text(`x ${secret} y`)).toBe(`x ${REDACTED} y`);
    // Each character alone inside a run of ASCII: a wrong byte for it would leave it in place.
    for (const c of ['\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\ud800\udc00', '\udbff\udfff', '\u00e9', '\u20ac', '\ud83d\ude00']) {
      const s = `abcd${c}efgh`;
      expect(createRedactor([s]).text(`< ${s} >`)).toBe(`< ${REDACTED} >`);
    }
  });

  it('reads a lone surrogate as U+FFFD, as TextEncoder writes it, wherever it stands', () => {
    const red = createRedactor(['abcd\ufffdefgh']);
    expect(red.text('< abcd\ud800efgh >')).toBe(`< ${REDACTED} >`); // a high one before a non-surrogate
    expect(red.text('< abcd\udc00efgh >')).toBe(`< ${REDACTED} >`); // a low one alone
    expect(red.text('< abcd\udbffefgh >')).toBe(`< ${REDACTED} >`);
    expect(red.text('< abcd\udfffefgh >')).toBe(`< ${REDACTED} >`);
    const two = createRedactor(['abcd\ufffd\ufffdefgh']);
    expect(two.text('< abcd\ud800\ud800efgh >')).toBe(`< ${REDACTED} >`); // a high one before another high one
    const end = createRedactor(['abcdefg\ufffd']);
    expect(end.text('< abcdefg\ud800')).toBe(`< ${REDACTED}`); // a high one at the very end
    expect(two.text('< abcd\udc00\udc00efgh >')).toBe(`< ${REDACTED} >`); // two low ones
    expect(createRedactor(['abcd\ufffd\ue000efgh']).text('< abcd\ud800\ue000efgh >')).toBe(`< ${REDACTED} >`); // a high one before U+E000
    // A match that ends inside a multi-byte character starts where it should.
    expect(createRedactor(['\u20ac\u20ac\u20ac\u20ac']).text('<< \u20ac\u20ac\u20ac >>')).toBe(`<< ${REDACTED} >>`);
    expect(createRedactor(['\u20ac'.repeat(6)], { window: 12 }).text(`<< ${'\u20ac'.repeat(4)} >>`)).toBe(`<< ${REDACTED} >>`);
    // A valid pair is one code point, not two U+FFFD.
    expect(two.text('< abcd\ud800\udc00efgh >')).toBe('< abcd\ud800\udc00efgh >');
  });

  it('finds a URL-encoded echo however far its escapes are from the rest of it', () => {
    const red = createRedactor([SECRET]);
    const pct = (s: string) => `%${s.charCodeAt(0).toString(16)}`;
    const far = 'x'.repeat(200);
    // The escape first, the secret's 23 other characters after it.
    expect(red.text(`${far} ${pct(SECRET[0]!)}${SECRET.slice(1, 9)} ${far}`)).toBe(`${far} ${REDACTED} ${far}`);
    // The escape last, the secret's run before it.
    expect(red.text(`${far} ${SECRET.slice(0, 7)}${pct(SECRET[7]!)} ${far}`)).toBe(`${far} ${REDACTED} ${far}`);
    // Escapes spread over the run, each within reach of the next, then another far away.
    const spread = `${pct(SECRET[0]!)}${SECRET.slice(1, 4)}${pct(SECRET[4]!)}${SECRET.slice(5, 7)}${pct(SECRET[7]!)}`;
    expect(red.text(`${far}${spread}${far}%41${far}${spread}`)).toBe(`${far}${REDACTED}${far}%41${far}${REDACTED}`);
    // A secret holding a literal escape is found as written (the plain view does not decode).
    expect(createRedactor(['ab%41cdefgh']).text('x ab%41cdefgh y')).toBe(`x ${REDACTED} y`);
    // Only a % starts an escape: a letter before two hex digits is that letter.
    expect(createRedactor(['key-0a1b2c3d4e5f']).text('= %6bey-0a1b2c3d4e5f')).toBe(`= ${REDACTED}`);
    // A % before two characters that are not hex digits is not an escape.
    expect(createRedactor(['abcd\u0011efgh']).text('abcd%zzefgh')).toBe('abcd%zzefgh');
    // An escape whose decoded stretch ends inside a plain echo: the echo is still redacted whole.
    expect(red.text(`%41xxxx${SECRET} y`)).toBe(`%41xxxx${REDACTED} y`);
    // A % before a % is not an escape either: the second starts one.
    expect(red.text(`%%73${SECRET.slice(1)}`)).toBe(`%${REDACTED}`);
    // A URL-encoded hex echo: its escapes reach as far as the longest pattern (16 hex digits), one, two or all of them escaped.
    const hex8 = Buffer.from(SECRET.slice(0, 8)).toString('hex');
    const esc = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    expect(red.text(`= ${esc(hex8[0]!)}${hex8.slice(1)} =`)).toBe(`= ${REDACTED} =`);
    expect(red.text(`= ${esc(hex8.slice(0, 2))}${hex8.slice(2)} =`)).toBe(`= ${REDACTED} =`);
    expect(red.text(`= ${esc(hex8)} =`)).toBe(`= ${REDACTED} =`);
    // A lone % near the end, too short to be an escape, is kept as it is.
    expect(red.text(`${SECRET} %4`)).toBe(`${REDACTED} %4`);
    expect(red.text(`${SECRET} %`)).toBe(`${REDACTED} %`);
  });

  it('keeps the text between two echoes, and replaces two touching echoes once each way they are found', () => {
    const red = createRedactor([SECRET]);
    expect(red.text(`${SECRET} and ${SECRET}`)).toBe(`${REDACTED} and ${REDACTED}`);
    expect(red.text(`${SECRET}${SECRET}`)).toBe(REDACTED);
    // A percent-encoded echo before a plain one: the decoded view's match comes after the plain view's.
    const pct = `%${SECRET.charCodeAt(0).toString(16)}${SECRET.slice(1)}`;
    expect(red.text(`${pct} .. ${SECRET}`)).toBe(`${REDACTED} .. ${REDACTED}`);
    expect(red.text(`${pct}${SECRET}`)).toBe(REDACTED);
  });

  it('gives two secrets side by side one marker, when one of them is found only percent-decoded', () => {
    // The first is found in the decoded view only (its escape splits every run), the second in the
    // plain view only (it holds a literal escape); a third echo after them keeps the two spans apart
    // until they are merged.
    const red = createRedactor(['zyxwvuts', 'ab%41cdefgh', SECRET]);
    expect(red.text('zyx%77vuts')).toBe(REDACTED);
    expect(red.text(`zyx%77vutsab%41cdefgh ${SECRET}`)).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('leaves intact a text that would spell a secret only if read past its end', () => {
    // The UTF-16LE of the secret: 61 00 six times, 61 E0, 80 80. The text holds all of it but the
    // last three bytes; nothing after its last code unit may complete the match.
    const red = createRedactor(['aaaaaa\ue061\u8080']);
    const almost = `${'a\0'.repeat(6)}a`;
    expect(red.text(`${almost}%e0%80%80`)).toBe(REDACTED);
    expect(red.text(almost)).toBe(almost);
    // The same with a % in reach, so that the percent-decoded view scans it too.
    expect(red.text(`%${almost}`)).toBe(`%${almost}`);
  });

  it('leaves intact a % followed by one hex digit: it is not an escape, in either position', () => {
    // 'ô' eight times in UTF-16LE is F4 00 eight times; only real escapes spell it.
    const red = createRedactor(['\u00f4'.repeat(8)]);
    expect(red.text('%f4%00'.repeat(8))).toBe(REDACTED);
    expect(red.text('%z4%00'.repeat(8))).toBe('%z4%00'.repeat(8));
    expect(red.text('%4z%00'.repeat(8))).toBe('%4z%00'.repeat(8));
  });

  it('widens a base64 match over the characters only partly the secret\'s and its = padding, and only those', () => {
    const red = createRedactor([SECRET]);
    // The secret at the blob's end, at each of the three alignments: 0, 1 or 2 = of padding.
    for (const pre of ['', 'a', 'ab']) {
      {
        const enc = b64(`${pre}${SECRET}`);
        // The characters wholly the prefix's are kept; the one shared with the secret goes.
        const kept = enc.slice(0, Math.floor((8 * pre.length) / 6));
        expect(red.text(`[${enc}]`)).toBe(`[${kept}${REDACTED}]`);
        // At most two = are padding: of three more, one is left (and any padding beyond two).
        const pad = enc.length - enc.replace(/=+$/, '').length;
        expect(red.text(`[${enc}===]`)).toBe(`[${kept}${REDACTED}${'='.repeat(pad + 1)}]`);
      }
    }
    // A plain (not base64) match is not widened over the letters around it.
    expect(red.text(`xx${SECRET}yy`)).toBe(`xx${REDACTED}yy`);
  });

  it('returns the very input when nothing is redacted, and a copy otherwise', () => {
    const red = createRedactor([SECRET]);
    const clean = Buffer.from('nothing secret here at all');
    expect(red.bytes(clean)).toBe(clean);
    const empty = new Uint8Array(0);
    expect(red.bytes(empty)).toBe(empty);
    const data = { a: ['b'] };
    expect(createRedactor([]).deep(data)).toBe(data);
    const copied = red.deep(data);
    expect(copied).toEqual(data);
    expect(copied).not.toBe(data);
    expect(createRedactor([]).bytes(Buffer.from(SECRET))).toEqual(Buffer.from(SECRET));
  });

  it('scans a text as short as the shortest thing it could hold', () => {
    // Three code units of three UTF-8 bytes each hold a run of 8 bytes of the secret; two do not.
    const red = createRedactor(['\u20ac\u20ac\u20ac\u20ac']);
    expect(red.text('\u20ac\u20ac\u20ac')).toBe(REDACTED);
    expect(red.text('\u20ac\u20ac')).toBe('\u20ac\u20ac');
  });

  it('matches by runs only its credentials: a secret with whitespace by its credential part, the others whole', () => {
    const red = createRedactor(['Bearer tok_abcdefgh12345', SECRET, '']);
    expect([...red.credentials].sort()).toEqual([SECRET, 'tok_abcdefgh12345'].sort());
    expect(red.secrets).toEqual(['Bearer tok_abcdefgh12345', SECRET, 'tok_abcdefgh12345', '']);
    // Eight characters of the whole `Bearer ...` value, across its space: not a run of a credential.
    expect(red.text('see arer tok yy')).toBe('see arer tok yy');
    expect(red.text('see abcdefgh12 yy')).toBe(`see ${REDACTED} yy`);
    // Given credentials, the other secrets are matched only whole.
    const whole = createRedactor(['https://svc.example/hook/abcdefgh'], { credentials: [] });
    expect(whole.credentials.size).toBe(0);
    expect(whole.text('go to svc.example/hook now')).toBe('go to svc.example/hook now');
    expect(whole.text('go to https://svc.example/hook/abcdefgh now')).toBe(`go to ${REDACTED} now`);
  });

  it('reports the size of its automaton, for the benchmarks', () => {
    const red = createRedactor([SECRET]);
    expect(red.size.states).toBeGreaterThan(SECRET.length);
    expect(red.size.bytes).toBeGreaterThan(red.size.states);
    expect(createRedactor([]).size.states).toBeLessThan(red.size.states);
  });
});
