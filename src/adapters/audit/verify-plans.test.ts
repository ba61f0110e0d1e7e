import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signCheckpoint } from '../../domain/checkpoint.js';
import { signerFromSeed } from '../../domain/signed-note.js';
import { bundleCheckpoints } from './verify-plans.js';

const signer = signerFromSeed('plans.test/log', randomBytes(32));
const note = (size: number) => signCheckpoint({ origin: signer.name, size, root: randomBytes(32) }, signer).note;
const file = (size: number) => `checkpoints/${String(size).padStart(16, '0')}.checkpoint`;
const dirs: string[] = [];

function bundle(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-plans-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'checkpoints'));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("a bundle's checkpoint files against its manifest", () => {
  it('as export wrote them: every listed file read, nothing found', () => {
    const dir = bundle({ [file(10)]: note(10), [file(20)]: note(20) });
    const r = bundleCheckpoints(dir, [file(10), file(20)]);
    expect(r.findings).toEqual([]);
    expect(r.records).toHaveLength(2);
  });

  it('a listed file removed, or a file whose line was removed: each named', () => {
    const missing = bundleCheckpoints(bundle({ [file(10)]: note(10) }), [file(10), file(20)]);
    expect(missing.findings).toEqual([expect.objectContaining({ kind: 'tampering', check: 'bundle-checkpoint-missing', checkpoint: 20 })]);
    const unlisted = bundleCheckpoints(bundle({ [file(10)]: note(10), [file(20)]: note(20) }), [file(10)]);
    expect(unlisted.findings).toEqual([expect.objectContaining({ check: 'bundle-checkpoint-unlisted' })]);
    expect(unlisted.records).toHaveLength(1);
  });

  it('files swapped, the list reordered or repeated, a path outside checkpoints/: each named, and nothing outside is read', () => {
    const swapped = bundleCheckpoints(bundle({ [file(10)]: note(20), [file(20)]: note(10) }), [file(10), file(20)]);
    expect(swapped.findings.map((f) => f.check)).toEqual(['bundle-checkpoint-name', 'bundle-checkpoint-name']);
    const reordered = bundleCheckpoints(bundle({ [file(10)]: note(10), [file(20)]: note(20) }), [file(20), file(10), file(10)]);
    expect(reordered.findings.map((f) => f.check)).toEqual(['bundle-checkpoint-order', 'bundle-checkpoint-order']);
    const outside = bundleCheckpoints(bundle({ [file(10)]: note(10) }), [file(10), '../manifest.json', 'checkpoints/../../x.checkpoint']);
    expect(outside.findings.map((f) => f.check)).toEqual(['bundle-checkpoint-name', 'bundle-checkpoint-name']);
    expect(outside.records).toHaveLength(1);
  });

  it('a manifest whose checkpoints are not a list cannot be read', () => {
    expect(() => bundleCheckpoints(bundle({}), 'checkpoints/x')).toThrow(/not a list/);
  });
});
