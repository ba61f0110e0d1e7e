import { createPrivateKey, createPublicKey, hash, sign, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/**
 * C2SP signed-note v1 with Ed25519 (signature type 0x01), the Go `note` package's
 * key encodings, and C2SP tlog-cosignature v1 (timestamped Ed25519, type 0x04)
 * for witnesses' cosignatures.
 *
 *   verifier key: <name>+<key id, 8 hex digits>+base64(type || public key)
 *   signer key:   PRIVATE+KEY+<name>+<key id>+base64(type || Ed25519 seed)
 *   key id:       SHA-256(name || 0x0A || type || public key)[:4]
 *   signature:    — <name> base64(key id || signature)
 */

export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE_V1 = 0x04;
const EM_DASH = '\u2014';

export interface VerifierKey {
  name: string;
  type: number;
  keyId: Uint8Array;
  publicKey: Uint8Array;
  /** The key as text: name+id+base64. */
  text: string;
}

export interface SignerKey {
  name: string;
  keyId: Uint8Array;
  verifier: VerifierKey;
  /** The key as text (a secret): PRIVATE+KEY+name+id+base64. */
  text: string;
  sign(message: Uint8Array): Uint8Array;
}

export class NoteError extends Error {
  override name = 'NoteError';
}

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** Whether a string holds a character below U+0020 (newlines allowed or not). */
function hasControl(s: string, newlines: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // (`i <= s.length` reads NaN past the end, which is not below 0x20: an equivalent mutant.)
    if (c < 0x20 && !(newlines && c === 0x0a)) return true;
  }
  return false;
}

/** Key names are non-empty, without Unicode spaces or plus. */
// \s already refuses a newline, so hasControl's `newlines` flag does not matter here (an equivalent mutant).
export function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name) && !hasControl(name, false);
}

// Throughout this file Buffer.from(s, 'utf8') equals Buffer.from(s, '') (UTF-8 is the default): those mutants are equivalent.
export function keyIdOf(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  return hash('sha256', Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0x0a, type]), publicKey]), 'buffer').subarray(0, 4);
}

const hex8 = (id: Uint8Array) => Buffer.from(id).toString('hex');

/** Strict standard base64 (RFC 4648 section 4): what encodes back to the same text. */
export function decodeBase64(s: string): Buffer | undefined {
  // A first filter: the round trip below refuses all the same (its mutants are equivalent).
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}

function ed25519Public(pub: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub]), format: 'der', type: 'spki' });
}

export function publicKeyOfSeed(seed: Uint8Array): Uint8Array {
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - 32);
}

export function verifierKey(name: string, type: number, publicKey: Uint8Array): VerifierKey {
  if (!isKeyName(name)) throw new NoteError(`invalid key name "${name}"`);
  const keyId = keyIdOf(name, type, publicKey);
  return { name, type, keyId, publicKey, text: `${name}+${hex8(keyId)}+${Buffer.concat([Buffer.from([type]), publicKey]).toString('base64')}` };
}

/** Splits at the first n-1 plus signs (base64, last, may hold plus signs itself). */
function splitKey(text: string, n: number): string[] | undefined {
  const parts = text.split('+');
  if (parts.length < n) return undefined;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join('+')];
}

/** Parses `<name>+<hex id>+<base64(type || key)>`; the id must match the key. */
export function parseVerifierKey(text: string): VerifierKey {
  const parts = splitKey(text, 3);
  if (!parts) throw new NoteError('a verifier key is <name>+<key id>+<base64 key>');
  const [name, id, b64] = parts as [string, string, string];
  if (!isKeyName(name)) throw new NoteError('invalid key name');
  if (!/^[0-9a-f]{8}$/.test(id)) throw new NoteError('the key id is 8 lowercase hex digits');
  const raw = decodeBase64(b64);
  if (!raw || raw.length < 1) throw new NoteError('the key is not base64');
  const type = raw[0]!;
  const publicKey = raw.subarray(1);
  if ((type !== SIG_ED25519 && type !== SIG_COSIGNATURE_V1) || publicKey.length !== 32) throw new NoteError('unsupported key type (Ed25519 keys only)');
  const key = verifierKey(name, type, publicKey);
  if (hex8(key.keyId) !== id) throw new NoteError('the key id does not match the key');
  return key;
}

/** A signer from an Ed25519 seed (32 bytes). */
export function signerFromSeed(name: string, seed: Uint8Array): SignerKey {
  if (seed.length !== 32) throw new NoteError('an Ed25519 seed is 32 bytes');
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const pub = publicKeyOfSeed(seed);
  const v = verifierKey(name, SIG_ED25519, pub);
  return {
    name,
    keyId: v.keyId,
    verifier: v,
    text: `PRIVATE+KEY+${name}+${hex8(v.keyId)}+${Buffer.concat([Buffer.from([SIG_ED25519]), seed]).toString('base64')}`,
    sign: (message) => sign(null, message, priv),
  };
}

/** Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`; the id must match. */
export function parseSignerKey(text: string): SignerKey {
  const parts = splitKey(text.trim(), 5);
  if (!parts || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw new NoteError('a signer key is PRIVATE+KEY+<name>+<key id>+<base64 key>');
  const [, , name, id, b64] = parts as [string, string, string, string, string];
  if (!isKeyName(name)) throw new NoteError('invalid key name');
  const raw = decodeBase64(b64);
  if (!raw || raw.length !== 33 || raw[0] !== SIG_ED25519) throw new NoteError('unsupported signer key (Ed25519 only)');
  const signer = signerFromSeed(name, raw.subarray(1));
  if (hex8(signer.keyId) !== id) throw new NoteError('the key id does not match the key');
  return signer;
}

/** A note text: valid UTF-8 (a JS string), ending in a newline, no control characters but newlines. */
function checkText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteError('a note text ends with a newline');
  if (hasControl(text, true)) throw new NoteError('a note text has no control characters but newlines');
  // The surrogate test only spares the round trip for most texts (equivalent when mutated).
  if (/[\uD800-\uDFFF]/.test(text) && Buffer.from(text, 'utf8').toString('utf8') !== text) throw new NoteError('a note text is valid UTF-8');
}

export function signatureLine(name: string, keyId: Uint8Array, sig: Uint8Array): string {
  return `${EM_DASH} ${name} ${Buffer.concat([keyId, sig]).toString('base64')}\n`;
}

/** The signed note: text, a blank line, one signature line. */
export function signNote(text: string, signer: SignerKey): string {
  checkText(text);
  return `${text}\n${signatureLine(signer.name, signer.keyId, signer.sign(Buffer.from(text, 'utf8')))}`;
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  /** The signature without its key id. */
  signature: Uint8Array;
  line: string;
}

export interface ParsedNote {
  text: string;
  signatures: NoteSignature[];
}

/** Splits a note at its last blank line; refuses anything malformed. Verifies nothing. */
export function parseNote(note: string, maxSignatures = 64): ParsedNote {
  if (hasControl(note, true)) throw new NoteError('a note has no control characters but newlines');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteError('a note is text, a blank line and signature lines');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > maxSignatures) throw new NoteError('too many signatures');
  const signatures = lines.map((line): NoteSignature => {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m || !isKeyName(m[1]!)) throw new NoteError('malformed signature line');
    const raw = decodeBase64(m[2]!);
    if (!raw || raw.length < 5) throw new NoteError('malformed signature');
    return { name: m[1]!, keyId: raw.subarray(0, 4), signature: raw.subarray(4), line: `${line}\n` };
  });
  checkText(text);
  return { text, signatures };
}

const sameId = (a: Uint8Array, b: Uint8Array) => a.length === b.length && timingSafeEqual(a, b);

/** Verifies one Ed25519 (type 0x01) signature of a text. */
export function verifySignature(text: string, sig: NoteSignature, key: VerifierKey): boolean {
  // The length test is a second guard: verify() refuses a signature of another length too. The catch is defensive (verify() of
  // a 32-byte key and any bytes returns false): both are equivalent mutants.
  if (key.type !== SIG_ED25519 || sig.name !== key.name || !sameId(sig.keyId, key.keyId) || sig.signature.length !== 64) return false;
  try {
    return verify(null, Buffer.from(text, 'utf8'), ed25519Public(key.publicKey), sig.signature);
  } catch {
    return false;
  }
}

export interface OpenedNote {
  text: string;
  /** Known keys whose signature verified. */
  verifiedBy: VerifierKey[];
  /** Signatures from keys not in the list (ignored, as the spec requires). */
  unknown: NoteSignature[];
}

/**
 * Opens a note with trusted keys: signatures from unknown keys are ignored; a known
 * key's bad signature rejects the whole note; at least one known key must have signed.
 */
export function openNote(note: string, keys: readonly VerifierKey[]): OpenedNote {
  const parsed = parseNote(note);
  const verifiedBy: VerifierKey[] = [];
  const unknown: NoteSignature[] = [];
  for (const sig of parsed.signatures) {
    const key = keys.find((k) => k.type === SIG_ED25519 && k.name === sig.name && sameId(k.keyId, sig.keyId));
    if (!key) {
      unknown.push(sig);
      continue;
    }
    if (!verifySignature(parsed.text, sig, key)) throw new NoteError(`the signature of ${key.name}+${hex8(key.keyId)} does not verify`);
    if (!verifiedBy.includes(key)) verifiedBy.push(key);
  }
  if (verifiedBy.length === 0) {
    const names = parsed.signatures.map((s) => `${s.name}+${hex8(s.keyId)}`).join(', ');
    // `nobody` cannot show: parseNote never returns a note without signature lines (an equivalent mutant).
    throw new NoteError(`no trusted key signed this note (signed by ${names || 'nobody'})`);
  }
  return { text: parsed.text, verifiedBy, unknown };
}

/** tlog-cosignature v1: the message a witness signs at `time` (seconds). */
export function cosignedMessage(text: string, time: bigint): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${time.toString()}\n${text}`, 'utf8');
}

/** Verifies a witness's timestamped Ed25519 cosignature line over a checkpoint text; returns its time. */
export function verifyCosignature(text: string, sig: NoteSignature, key: VerifierKey): bigint | undefined {
  if (key.type !== SIG_COSIGNATURE_V1 || sig.name !== key.name || !sameId(sig.keyId, key.keyId) || sig.signature.length !== 72) return undefined;
  // (The length test also keeps the read below in range; the catch further down is defensive, as in verifySignature.)
  const time = Buffer.from(sig.signature).readBigUInt64BE(0);
  if (time > 2n ** 63n - 1n) return undefined;
  try {
    return verify(null, cosignedMessage(text, time), ed25519Public(key.publicKey), sig.signature.subarray(8)) ? time : undefined;
  } catch {
    return undefined;
  }
}

/** Makes a cosignature line (tests and fake witnesses). */
export function cosign(text: string, name: string, seed: Uint8Array, time: bigint): string {
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const key = verifierKey(name, SIG_COSIGNATURE_V1, publicKeyOfSeed(seed));
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(time);
  return signatureLine(name, key.keyId, Buffer.concat([ts, sign(null, cosignedMessage(text, time), priv)]));
}
