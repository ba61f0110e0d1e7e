import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signCheckpoint } from '../../domain/checkpoint.js';
import { signerFromSeed } from '../../domain/signed-note.js';
import { openKnownCheckpoint } from './known-checkpoint.js';

const ORIGIN = 'known.test/log';
const signer = signerFromSeed(ORIGIN, randomBytes(32));
const cp = signCheckpoint({ origin: ORIGIN, size: 42, root: randomBytes(32) }, signer);
const dir = mkdtempSync(join(tmpdir(), 'countersign-known-'));
const kept = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const opts = { keys: [signer.verifier], origin: ORIGIN, start: 0, keysFromBundle: false };

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a checkpoint the auditor kept', () => {
  it('is read as served, with cosignature lines, or from a receipt', () => {
    const cosigned = `${cp.note}\u2014 some-witness ${randomBytes(76).toString('base64')}\n`;
    for (const f of [kept('a.checkpoint', cp.note), kept('b.checkpoint', cosigned), kept('r.json', JSON.stringify({ format: 'countersign-receipt/v1', checkpoint: cp.note }))]) {
      expect(openKnownCheckpoint(f, opts)).toMatchObject({ size: 42, origin: ORIGIN, source: f });
    }
  });

  it('is refused with a stable code when unreadable, not signed by a trusted key, for another log, or before the range', () => {
    const code = (f: string, o = opts) => {
      try {
        openKnownCheckpoint(f, o);
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return undefined;
    };
    expect(code(join(dir, 'nowhere'))).toBe('KNOWN_CHECKPOINT_UNREADABLE');
    expect(code(kept('j.json', '{"checkpoint": 3}'))).toBe('KNOWN_CHECKPOINT_UNREADABLE');
    expect(code(kept('t.checkpoint', 'text\n'))).toBe('KNOWN_CHECKPOINT_UNREADABLE');
    const f = kept('ok.checkpoint', cp.note);
    expect(code(f, { ...opts, keys: [signerFromSeed(ORIGIN, randomBytes(32)).verifier] })).toBe('KNOWN_CHECKPOINT_SIGNATURE');
    expect(code(kept('edited.checkpoint', cp.note.replace('\n42\n', '\n43\n')))).toBe('KNOWN_CHECKPOINT_SIGNATURE');
    expect(code(f, { ...opts, origin: 'other/log' })).toBe('KNOWN_CHECKPOINT_ORIGIN');
    expect(code(f, { ...opts, start: 43 })).toBe('KNOWN_CHECKPOINT_BEFORE_RANGE');
    expect(code(f, { ...opts, start: 42 })).toBeUndefined();
  });
});
