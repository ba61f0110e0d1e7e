import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSigningKey } from '../adapters/audit/signing-key.js';
import { DEFAULT_SIGNING_KEY_FILE } from '../config/audit-schema.js';
import { signingKeyLocation } from './signing-key-location.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'countersign-keyloc-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
const db = () => join(dir, 'data', 'countersign.db');

describe('where the audit signing key lives', () => {
  it('by default, beside the config in keys/, outside the database folder, created 0600 in a 0700 folder', () => {
    const loc = signingKeyLocation(DEFAULT_SIGNING_KEY_FILE, abs, db());
    expect(loc).toEqual({ file: join(dir, 'keys', 'audit-signing.key') });
    loadSigningKey({ file: loc.file, create: true }, () => 'h.example/log');
    expect(statSync(loc.file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
  });

  it('a key generated at the old default (./data) is kept, with a warning to move it', () => {
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'audit-signing.key'), 'x', { mode: 0o600 });
    const loc = signingKeyLocation(DEFAULT_SIGNING_KEY_FILE, abs, db());
    expect(loc.file).toBe(join(dir, 'data', 'audit-signing.key'));
    expect(loc.warning).toMatch(/old default .*move it to \.\/keys\/audit-signing\.key/);
  });

  it('a key configured in the database folder is used, with a warning', () => {
    const loc = signingKeyLocation('./data/signing.key', abs, db());
    expect(loc.file).toBe(join(dir, 'data', 'signing.key'));
    expect(loc.warning).toContain("in the database's folder");
    expect(signingKeyLocation('/etc/countersign/keys/k', abs, db()).warning).toBeUndefined();
  });
});
