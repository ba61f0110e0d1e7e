import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSigningKey } from './signing-key.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'countersign-key-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const origin = () => 'host.example/countersign/audit';

describe('the checkpoint signing key', () => {
  it('is generated on first start into a file only its owner can read, and read back the same afterwards', () => {
    const file = join(dir, 'data', 'audit-signing.key');
    const first = loadSigningKey({ file, create: true }, origin);
    expect(first).toMatchObject({ source: 'file', created: true });
    expect(first.signer.name).toBe('host.example/countersign/audit');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadSigningKey({ file, create: true }, origin);
    expect(again.created).toBe(false);
    expect(again.signer.verifier.text).toBe(first.signer.verifier.text);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.signer.text);
  });

  it('refuses a key file others can read, a malformed one, one for another origin, and a missing one when not creating', () => {
    const file = join(dir, 'k');
    const k = loadSigningKey({ file, create: true, origin: 'a.example/log' }, origin);
    chmodSync(file, 0o644);
    expect(() => loadSigningKey({ file, create: false }, origin)).toThrow(/readable by others/);
    chmodSync(file, 0o600);
    expect(() => loadSigningKey({ file, create: false, origin: 'b.example/log' }, origin)).toThrow(/audit.origin is "b.example\/log"/);
    writeFileSync(file, 'garbage', { mode: 0o600 });
    expect(() => loadSigningKey({ file, create: false }, origin)).toThrow(/does not hold a signing key/);
    expect(() => loadSigningKey({ file: join(dir, 'none'), create: false }, origin)).toThrow(/no signing key/);
    expect(loadSigningKey({ file: join(dir, 'none'), create: false, text: k.signer.text }, origin)).toMatchObject({ source: 'config', created: false });
  });
});
