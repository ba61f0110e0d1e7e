import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkpointText, openCheckpoint, parseCheckpointText, readCheckpoint, signCheckpoint, withCosignatures } from './checkpoint.js';
import {
  cosign,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  publicKeyOfSeed,
  SIG_COSIGNATURE_V1,
  signerFromSeed,
  signNote,
  verifierKey,
  verifyCosignature,
} from './signed-note.js';

// Known answers from the reference implementation (golang.org/x/mod/sumdb/note) and
// from the C2SP signed-note specification.
const GO_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE = 'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

describe('signed notes (C2SP signed-note v1, Ed25519)', () => {
  it('reproduces the reference note byte for byte: key id, key encodings, deterministic signature', () => {
    const signer = parseSignerKey(GO_SKEY);
    expect(signer.text).toBe(GO_SKEY);
    expect(signer.verifier.text).toBe(GO_VKEY);
    expect(signNote(GO_TEXT, signer)).toBe(GO_NOTE);
    const opened = openNote(GO_NOTE, [parseVerifierKey(GO_VKEY)]);
    expect(opened.text).toBe(GO_TEXT);
    expect(opened.verifiedBy.map((k) => k.text)).toEqual([GO_VKEY]);
  });

  it("verifies the specification's example note", () => {
    expect(openNote(SPEC_NOTE, [parseVerifierKey(SPEC_VKEY)]).text).toBe('This is an example message.\n');
  });

  it('refuses mangled keys: every truncation and every changed byte', () => {
    for (const key of [GO_VKEY, GO_SKEY]) {
      const parse = key === GO_VKEY ? parseVerifierKey : parseSignerKey;
      for (let i = 1; i < key.length; i++) expect(() => parse(key.slice(0, i))).toThrow();
      for (let i = 0; i < key.length; i++) {
        const changed = key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        expect(() => parse(changed), changed).toThrow();
      }
    }
  });

  it('rejects a note whose known signature fails, and one that no trusted key signed; ignores unknown signers', () => {
    const key = parseVerifierKey(GO_VKEY);
    const forged = GO_NOTE.replace('cryptography', 'cryptograpHy');
    expect(() => openNote(forged, [key])).toThrow(/does not verify/);
    const other = signerFromSeed('someone.example/log', randomBytes(32));
    const byOther = signNote(GO_TEXT, other);
    expect(() => openNote(byOther, [key])).toThrow(/no trusted key signed/);
    // Same name, another key: unknown, hence ignored, hence nobody trusted signed.
    const impostor = signerFromSeed('PeterNeumann', randomBytes(32));
    expect(() => openNote(signNote(GO_TEXT, impostor), [key])).toThrow(/no trusted key/);
    // Two signatures, one unknown: accepted on the known one.
    const both = `${GO_NOTE}${signNote(GO_TEXT, other).split('\n\n')[1]}`;
    const opened = openNote(both, [key]);
    expect(opened.unknown.map((s) => s.name)).toEqual(['someone.example/log']);
  });

  it('refuses malformed notes', () => {
    const key = parseVerifierKey(GO_VKEY);
    for (const bad of [GO_TEXT, GO_NOTE.slice(0, -1), GO_NOTE.replace('\u2014', '-'), GO_NOTE.replace('\n\n', '\n'), `\x01${GO_NOTE}`, GO_NOTE.replace('Neumann x08', 'Neumann  x08')]) {
      expect(() => openNote(bad, [key])).toThrow();
    }
    expect(() => signNote('no newline', parseSignerKey(GO_SKEY))).toThrow();
    expect(() => signNote('tab\there\n', parseSignerKey(GO_SKEY))).toThrow();
  });
});

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  const seed = randomBytes(32);
  const signer = signerFromSeed('audit.example.com/log', seed);
  const root = randomBytes(32);

  it('signs origin, size and base64 root, and opens only with the log key', () => {
    const cp = signCheckpoint({ origin: 'audit.example.com/log', size: 42, root }, signer);
    expect(cp.note.startsWith(`audit.example.com/log\n42\n${root.toString('base64')}\n\n\u2014 audit.example.com/log `)).toBe(true);
    const opened = openCheckpoint(cp.note, [signer.verifier]);
    expect(opened.size).toBe(42);
    expect(Buffer.from(opened.root).equals(root)).toBe(true);
    expect(readCheckpoint(cp.note).size).toBe(42);
    expect(() => signCheckpoint({ origin: 'other.example/log', size: 1, root }, signer)).toThrow();
  });

  it('refuses malformed checkpoint bodies', () => {
    const ok = checkpointText({ origin: 'o.example/x', size: 7, root });
    expect(parseCheckpointText(ok).size).toBe(7);
    for (const bad of [
      ok.replace('\n7\n', '\n07\n'),
      ok.replace('\n7\n', '\n-7\n'),
      ok.replace('\n7\n', '\n\n'),
      ok.replace(root.toString('base64'), randomBytes(31).toString('base64')),
      `${ok}extension\n`,
      ok.replace('o.example/x', 'o example'),
    ]) {
      expect(() => parseCheckpointText(bad), JSON.stringify(bad)).toThrow();
    }
  });

  it("verifies a witness's timestamped cosignature (tlog-cosignature v1) and refuses it on another text", () => {
    const cp = signCheckpoint({ origin: 'audit.example.com/log', size: 42, root }, signer);
    const wseed = randomBytes(32);
    const wkey = verifierKey('witness.example/w1', SIG_COSIGNATURE_V1, publicKeyOfSeed(wseed));
    expect(parseVerifierKey(wkey.text).keyId).toEqual(wkey.keyId);
    const line = cosign(checkpointText(cp), 'witness.example/w1', wseed, 1_700_000_000n);
    const note = withCosignatures(cp.note, [line]);
    const parsed = parseNote(note);
    expect(parsed.signatures).toHaveLength(2);
    expect(verifyCosignature(parsed.text, parsed.signatures[1]!, wkey)).toBe(1_700_000_000n);
    expect(verifyCosignature(checkpointText({ ...cp, size: 43 }), parsed.signatures[1]!, wkey)).toBeUndefined();
    // The log's own key still opens the cosigned note; the cosignature is an unknown signer to it.
    expect(openCheckpoint(note, [signer.verifier]).opened.unknown).toHaveLength(1);
  });
});
