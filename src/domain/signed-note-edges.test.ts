// The edges of signed notes and their keys (found by the mutation campaign): each
// refusal with its own reason, the boundaries of names, texts and signature counts,
// and the checks that keep a cosignature key and a log key apart.
import { describe, expect, it } from 'vitest';
import type { NoteSignature, VerifierKey } from './signed-note.js';
import {
  cosign,
  cosignedMessage,
  decodeBase64,
  isKeyName,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  publicKeyOfSeed,
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  signatureLine,
  signerFromSeed,
  signNote,
  verifierKey,
  verifyCosignature,
  verifySignature,
} from './signed-note.js';

const GO_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

const seedOf = (n: number) => Buffer.alloc(32, n);
const b64 = (type: number, key: Uint8Array) => Buffer.concat([Buffer.from([type]), key]).toString('base64');

describe('signed-note keys: each refusal names its reason', () => {
  it('key names are non-empty and hold no space, plus sign or control character', () => {
    expect(isKeyName('log.example/x')).toBe(true);
    for (const bad of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u2028b', 'a\u3000b', 'a\tb', 'a\x1fb', 'a\nb', 'a\u0085b']) expect(isKeyName(bad), JSON.stringify(bad)).toBe(false);
    expect(() => verifierKey('a b', SIG_ED25519, publicKeyOfSeed(seedOf(1)))).toThrow('invalid key name "a b"');
  });

  it('a verifier key has three parts, a valid name, an 8-lowercase-hex id, a base64 Ed25519 key of 32 bytes, and the id of that key', () => {
    const pub = publicKeyOfSeed(seedOf(1));
    const good = verifierKey('log.example', SIG_ED25519, pub);
    const [, id] = good.text.split('+') as [string, string];
    expect(parseVerifierKey(good.text).text).toBe(good.text);
    expect(() => parseVerifierKey('log.example+abcdef01')).toThrow('a verifier key is <name>+<key id>+<base64 key>');
    expect(() => parseVerifierKey(`+${id}+${b64(1, pub)}`)).toThrow(/^invalid key name$/);
    expect(() => parseVerifierKey(`log.example+${id}+${Buffer.from([1]).toString('base64')}`)).toThrow('unsupported key type (Ed25519 keys only)');
    expect(() => parseVerifierKey(`log.example+${id.toUpperCase()}+${b64(1, pub)}`)).toThrow('the key id is 8 lowercase hex digits');
    expect(() => parseVerifierKey(`log.example+${id}0+${b64(1, pub)}`)).toThrow('the key id is 8 lowercase hex digits');
    expect(() => parseVerifierKey(`log.example+x${id}+${b64(1, pub)}`)).toThrow('the key id is 8 lowercase hex digits');
    expect(() => parseVerifierKey(`log.example+${id}+`)).toThrow('the key is not base64');
    expect(() => parseVerifierKey(`log.example+${id}+${b64(1, pub).slice(0, -1)}`)).toThrow('the key is not base64');
    expect(() => parseVerifierKey(`log.example+${id}+${b64(2, pub)}`)).toThrow('unsupported key type (Ed25519 keys only)');
    expect(() => parseVerifierKey(`log.example+${id}+${b64(1, pub.subarray(1))}`)).toThrow('unsupported key type (Ed25519 keys only)');
    expect(() => parseVerifierKey(`log.example+${id}+${b64(1, Buffer.concat([pub, Buffer.from([0])]))}`)).toThrow('unsupported key type (Ed25519 keys only)');
    expect(() => parseVerifierKey(`log.example+00000000+${b64(1, pub)}`)).toThrow('the key id does not match the key');
  });

  it('a cosignature (type 0x04) verifier key parses, with its own key id', () => {
    const pub = publicKeyOfSeed(seedOf(2));
    const key = verifierKey('witness.example', SIG_COSIGNATURE_V1, pub);
    const parsed = parseVerifierKey(key.text);
    expect(parsed.type).toBe(SIG_COSIGNATURE_V1);
    expect(Buffer.from(parsed.keyId).equals(Buffer.from(verifierKey('witness.example', SIG_ED25519, pub).keyId))).toBe(false);
  });

  it('a key whose base64 holds plus signs parses: only the first separators split', () => {
    let key: VerifierKey | undefined;
    for (let n = 0; !key; n++) {
      const k = verifierKey('log.example', SIG_ED25519, publicKeyOfSeed(seedOf(n)));
      if (k.text.split('+').length > 3) key = k;
    }
    expect(parseVerifierKey(key.text).text).toBe(key.text);
    const signer = parseSignerKey(GO_SKEY); // its base64 holds a plus sign
    expect(signer.text).toBe(GO_SKEY);
  });

  it('a signer key is PRIVATE+KEY+name+id+base64(0x01 || 32-byte seed), with surrounding whitespace (a key file) ignored', () => {
    expect(parseSignerKey(`  ${GO_SKEY}\n`).text).toBe(GO_SKEY);
    expect(() => parseSignerKey(GO_SKEY.replace('PRIVATE+', 'PUBLIC+'))).toThrow('a signer key is PRIVATE+KEY+<name>+<key id>+<base64 key>');
    expect(() => parseSignerKey(GO_SKEY.replace('+KEY+', '+KEYS+'))).toThrow('a signer key is PRIVATE+KEY+<name>+<key id>+<base64 key>');
    expect(() => parseSignerKey('PRIVATE+KEY+name+c74f20a3')).toThrow('a signer key is PRIVATE+KEY+<name>+<key id>+<base64 key>');
    expect(() => parseSignerKey(GO_SKEY.replace('PeterNeumann', 'Peter\tNeumann'))).toThrow(/^invalid key name$/);
    const seed = seedOf(3);
    const id = Buffer.from(signerFromSeed('n', seed).keyId).toString('hex');
    expect(() => parseSignerKey(`PRIVATE+KEY+n+${id}+${b64(4, seed)}`)).toThrow('unsupported signer key (Ed25519 only)');
    expect(() => parseSignerKey(`PRIVATE+KEY+n+${id}+${b64(1, seed.subarray(1))}`)).toThrow('unsupported signer key (Ed25519 only)');
    expect(() => parseSignerKey(`PRIVATE+KEY+n+${id}+not base64`)).toThrow('unsupported signer key (Ed25519 only)');
    expect(() => parseSignerKey(`PRIVATE+KEY+n+00000000+${b64(1, seed)}`)).toThrow('the key id does not match the key');
    expect(parseSignerKey(`PRIVATE+KEY+n+${id}+${b64(1, seed)}`).name).toBe('n');
  });

  it('a seed is exactly 32 bytes', () => {
    expect(() => signerFromSeed('n', Buffer.alloc(31))).toThrow('an Ed25519 seed is 32 bytes');
    expect(() => signerFromSeed('n', Buffer.alloc(33))).toThrow('an Ed25519 seed is 32 bytes');
  });

  it('base64 is strict: standard alphabet, padded, canonical', () => {
    expect(decodeBase64('AAEC')).toEqual(Buffer.from([0, 1, 2]));
    expect(decodeBase64('')).toEqual(Buffer.alloc(0));
    expect(decodeBase64('AA==')).toEqual(Buffer.from([0]));
    for (const bad of ['AA', 'AB==', 'A===', '-_8=', 'AA=A', ' AAEC', 'AAEC\n', 'AAE']) expect(decodeBase64(bad), bad).toBeUndefined();
  });
});

describe('signed notes: texts, signature lines and verification', () => {
  it('a note text ends with a newline, holds no control character but newlines, and is valid UTF-8', () => {
    const signer = signerFromSeed('log.example', seedOf(4));
    expect(() => signNote('no newline', signer)).toThrow('a note text ends with a newline');
    expect(() => signNote('tab\there\n', signer)).toThrow('a note text has no control characters but newlines');
    expect(() => signNote('unit \x1f sep\n', signer)).toThrow('a note text has no control characters but newlines');
    expect(() => signNote('lone \uD800 surrogate\n', signer)).toThrow('a note text is valid UTF-8');
    expect(() => signNote('lone \uDC00 surrogate\n', signer)).toThrow('a note text is valid UTF-8');
    // A space, a pair of surrogates (one emoji) and several lines are all fine.
    const text = 'space and \uD83D\uDE00\nsecond line\n';
    expect(openNote(signNote(text, signer), [signer.verifier]).text).toBe(text);
  });

  it('a note is its text, a blank line and signature lines, and nothing else', () => {
    expect(() => parseNote(`${GO_NOTE}\x01`)).toThrow('a note has no control characters but newlines');
    expect(() => parseNote(GO_NOTE.replace('\n\n', '\n'))).toThrow('a note is text, a blank line and signature lines');
    expect(() => parseNote(GO_NOTE.slice(0, -1))).toThrow('a note is text, a blank line and signature lines');
    expect(() => parseNote(GO_NOTE.replace('\u2014 ', '\u2014  '))).toThrow('malformed signature line');
    expect(() => parseNote(GO_NOTE.replace('\u2014 ', '- '))).toThrow('malformed signature line');
    expect(() => parseNote(`${GO_NOTE.slice(0, -1)} trailing\n`)).toThrow('malformed signature line');
    expect(() => parseNote(`${GO_TEXT}\n\u2014 a+b AAAAAAA=\n`)).toThrow('malformed signature line');
    expect(() => parseNote(`${GO_TEXT}\n\u2014 a AAAA\n`)).toThrow('malformed signature');
    expect(() => parseNote(`${GO_TEXT}\n\u2014 a AAAA=A==\n`)).toThrow('malformed signature');
    const five = parseNote(`${GO_TEXT}\n\u2014 a AAAAAAA=\n`);
    expect(five.signatures[0]).toMatchObject({ name: 'a', line: '\u2014 a AAAAAAA=\n' });
    expect([...five.signatures[0]!.keyId]).toEqual([0, 0, 0, 0]);
    expect([...five.signatures[0]!.signature]).toEqual([0]);
    expect(() => parseNote(`bad\ttext\n\n\u2014 a AAAAAAA=\n`)).toThrow('a note has no control characters but newlines');
    expect(() => parseNote(`bad \uD800 text\n\n\u2014 a AAAAAAA=\n`)).toThrow('a note text is valid UTF-8');
  });

  it('a note holds at most 64 signatures, or the caller’s own limit', () => {
    const line = '\u2014 a AAAAAAA=\n';
    expect(parseNote(`${GO_TEXT}\n${line.repeat(64)}`).signatures).toHaveLength(64);
    expect(() => parseNote(`${GO_TEXT}\n${line.repeat(65)}`)).toThrow('too many signatures');
    expect(parseNote(`${GO_TEXT}\n${line.repeat(2)}`, 2).signatures).toHaveLength(2);
    expect(() => parseNote(`${GO_TEXT}\n${line.repeat(3)}`, 2)).toThrow('too many signatures');
  });

  it('a signature verifies only for an Ed25519 key of the same name and id, with 64 signature bytes', () => {
    const signer = parseSignerKey(GO_SKEY);
    const key = parseVerifierKey(GO_VKEY);
    const sig = parseNote(GO_NOTE).signatures[0]!;
    expect(verifySignature(GO_TEXT, sig, key)).toBe(true);
    expect(verifySignature(GO_TEXT.replace('answer', 'Answer'), sig, key)).toBe(false);
    expect(verifySignature(GO_TEXT, sig, { ...key, type: SIG_COSIGNATURE_V1 })).toBe(false);
    expect(verifySignature(GO_TEXT, { ...sig, name: 'Other' }, key)).toBe(false);
    expect(verifySignature(GO_TEXT, { ...sig, keyId: new Uint8Array(4) }, key)).toBe(false);
    expect(verifySignature(GO_TEXT, { ...sig, keyId: sig.keyId.subarray(0, 3) }, key)).toBe(false);
    expect(verifySignature(GO_TEXT, { ...sig, signature: Buffer.concat([sig.signature, Buffer.from([0])]) }, key)).toBe(false);
    expect(verifySignature(GO_TEXT, { ...sig, signature: sig.signature.subarray(0, 63) }, key)).toBe(false);
    expect(signer.sign(Buffer.from(GO_TEXT)).length).toBe(64);
  });

  it('opening a note: a key signing twice is listed once; unknown signers are listed; the refusal names who signed', () => {
    const signer = parseSignerKey(GO_SKEY);
    const key = parseVerifierKey(GO_VKEY);
    const sigLine = GO_NOTE.slice(GO_NOTE.indexOf('\n\n') + 2);
    const twice = `${GO_NOTE}${sigLine}`;
    const opened = openNote(twice, [key, key]);
    expect(opened.verifiedBy).toEqual([key]);
    expect(opened.unknown).toEqual([]);
    const other = signerFromSeed('other.example', seedOf(5));
    const byOther = signNote(GO_TEXT, other);
    const otherId = Buffer.from(other.keyId).toString('hex');
    expect(() => openNote(byOther, [key])).toThrow(`no trusted key signed this note (signed by other.example+${otherId})`);
    const both = `${byOther}${sigLine}`;
    expect(openNote(both, [key]).unknown.map((s) => s.name)).toEqual(['other.example']);
    expect(() => openNote(`${byOther}${signNote(GO_TEXT, signerFromSeed('third.example', seedOf(6))).split('\n\n')[1]}`, [key])).toThrow(
      /\(signed by other\.example\+[0-9a-f]{8}, third\.example\+[0-9a-f]{8}\)$/,
    );
    expect(signer.verifier.text).toBe(GO_VKEY);
  });

  it('a known key whose signature fails rejects the note and is named', () => {
    const key = parseVerifierKey(GO_VKEY);
    expect(() => openNote(GO_NOTE.replace('cryptography', 'cryptograpHy'), [key])).toThrow('the signature of PeterNeumann+c74f20a3 does not verify');
  });

  it('a cosignature key never opens a note, even one made to carry the log key’s id', () => {
    const key = parseVerifierKey(GO_VKEY);
    const lookalike: VerifierKey = { ...key, type: SIG_COSIGNATURE_V1 };
    expect(() => openNote(GO_NOTE, [lookalike])).toThrow(/no trusted key signed/);
  });
});

describe('witness cosignatures (tlog-cosignature v1)', () => {
  const text = 'log.example\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';

  it('the signed message is "cosignature/v1", the time line, then the checkpoint text', () => {
    expect(cosignedMessage(text, 1_700_000_000n).toString('utf8')).toBe(`cosignature/v1\ntime 1700000000\n${text}`);
  });

  function cosigned(time: bigint): { sig: NoteSignature; key: VerifierKey } {
    const seed = seedOf(7);
    const key = verifierKey('witness.example', SIG_COSIGNATURE_V1, publicKeyOfSeed(seed));
    const sig = parseNote(`${text}\n${cosign(text, 'witness.example', seed, time)}`).signatures[0]!;
    return { sig, key };
  }

  it('verifies for the cosignature key of that name and id only, with 72 bytes, and returns its time', () => {
    const { sig, key } = cosigned(1_700_000_000n);
    expect(verifyCosignature(text, sig, key)).toBe(1_700_000_000n);
    expect(verifyCosignature(text, sig, { ...key, type: SIG_ED25519 })).toBeUndefined();
    expect(verifyCosignature(text, { ...sig, name: 'other' }, key)).toBeUndefined();
    expect(verifyCosignature(text, { ...sig, keyId: new Uint8Array(4) }, key)).toBeUndefined();
    expect(verifyCosignature(text, { ...sig, signature: sig.signature.subarray(0, 71) }, key)).toBeUndefined();
    expect(verifyCosignature(text, { ...sig, signature: Buffer.concat([sig.signature, Buffer.from([0])]) }, key)).toBeUndefined();
    const other = Buffer.from(sig.signature);
    other.writeBigUInt64BE(1_700_000_001n);
    expect(verifyCosignature(text, { ...sig, signature: other }, key)).toBeUndefined();
  });

  it('the largest time it accepts is 2^63 - 1; above is refused even when signed', () => {
    const max = 2n ** 63n - 1n;
    const a = cosigned(max);
    expect(verifyCosignature(text, a.sig, a.key)).toBe(max);
    const b = cosigned(max + 1n);
    expect(verifyCosignature(text, b.sig, b.key)).toBeUndefined();
  });

  it('a cosignature line names the witness and carries key id, time and signature', () => {
    const line = cosign(text, 'witness.example', seedOf(7), 5n);
    expect(line.startsWith('\u2014 witness.example ')).toBe(true);
    expect(line.endsWith('\n')).toBe(true);
    expect(signatureLine('n', new Uint8Array([1, 2, 3, 4]), new Uint8Array([5]))).toBe('\u2014 n AQIDBAU=\n');
  });
});

describe('signed notes: more edges', () => {
  it('errors are NoteErrors by name', () => {
    let err: unknown;
    try {
      parseNote('no blank line\n');
    } catch (e) {
      err = e;
    }
    expect((err as Error).name).toBe('NoteError');
  });

  it('a note whose text is a single newline parses; a signature line must start with the dash', () => {
    expect(parseNote('\n\n\u2014 a AAAAAAA=\n').text).toBe('\n');
    expect(() => parseNote(`${GO_TEXT}\nx\u2014 a AAAAAAA=\n`)).toThrow('malformed signature line');
  });

  it('a key of the same id but another name is an unknown signer, not a failed signature', () => {
    const key = parseVerifierKey(GO_VKEY);
    expect(() => openNote(GO_NOTE, [{ ...key, name: 'Other' }])).toThrow(/no trusted key signed/);
  });

  it('a cosignature shorter than its 8-byte time is refused, not an exception', () => {
    const seed = seedOf(8);
    const key = verifierKey('witness.example', SIG_COSIGNATURE_V1, publicKeyOfSeed(seed));
    expect(verifyCosignature('t\n', { name: key.name, keyId: key.keyId, signature: new Uint8Array(7), line: '' }, key)).toBeUndefined();
  });
});
