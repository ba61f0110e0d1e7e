import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canaryReport, scanForCanaries } from '../../campaigns/lib/canaries.mjs';

let dir: string;
const secret = { value: 'canary_0123456789abcdef01234567', label: 'target-credential' };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-canary-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the canary scan', () => {
  it('names the file, line and byte where a canary sits, in clear inside binary data', () => {
    writeFileSync(join(dir, 'clean.log'), 'nothing here\n');
    writeFileSync(join(dir, 'store.db'), Buffer.concat([Buffer.from([0, 1, 2, 10, 255]), Buffer.from(`{"authorization":"Bearer ${secret.value}"}`)]));
    const r = scanForCanaries({ paths: [dir], canaries: [secret] });
    expect(r.scannedFiles).toBe(2);
    expect(r.found).toEqual([
      expect.objectContaining({ file: join(dir, 'store.db'), line: 2, offset: 5 + '{"authorization":"Bearer '.length, form: 'clear', canary: 'target-credential' }),
    ]);
    expect(r.found[0]!.context).toContain('Bearer <CANARY>');
    expect(r.found[0]!.context).not.toContain(secret.value);
  });

  it('finds a canary that was base64-encoded (a webhook secret, a basic-auth header)', () => {
    writeFileSync(join(dir, 'bundle.json'), JSON.stringify({ key: Buffer.from(secret.value).toString('base64') }));
    expect(scanForCanaries({ paths: [dir], canaries: [secret] }).found.map((f) => f.form)).toEqual(['base64']);
  });

  it('refuses to report success for a scan that read nothing, or looked for nothing', () => {
    expect(() => canaryReport(join(dir, 'missing'), [secret])).toThrow(/read nothing/);
    expect(() => scanForCanaries({ paths: [dir], canaries: [] })).toThrow(/no canary/);
  });
});
