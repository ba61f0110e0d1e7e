import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CheckpointContext } from './audit-checkpoint-checks.js';
import { checkCheckpoints } from './audit-checkpoint-checks.js';
import type { KnownCheckpoint } from './audit-coverage.js';
import { checkKnownCheckpoints, coverageOf, uncoveredInBundle, unsignedInLog } from './audit-coverage.js';
import { signCheckpoint } from './checkpoint.js';
import { consistencyProof, nodesOfLeaves, rootAt } from './merkle.js';
import { signerFromSeed } from './signed-note.js';

const ORIGIN = 'coverage.test/log';
const signer = signerFromSeed(ORIGIN, randomBytes(32));
const leaves = Array.from({ length: 40 }, () => randomBytes(32));
const tree = nodesOfLeaves(leaves);
const sign = (size: number, root = rootAt(tree, size)) => signCheckpoint({ origin: ORIGIN, size, root }, signer);
const ctxOf = (end: number, extra: Partial<CheckpointContext> = {}): CheckpointContext => ({
  keys: [signer.verifier],
  origin: ORIGIN,
  start: 0,
  end,
  roots: new Map(Array.from({ length: end + 1 }, (_, s) => [s, rootAt(tree, s)])),
  ...extra,
});
const known = (size: number, root = rootAt(tree, size)): KnownCheckpoint => ({ ...sign(size, root), source: `kept-${size}.checkpoint` });

describe('which entries a signature proves', () => {
  it('entries up to the largest checkpoint that agrees with them are proven; the rest are not', () => {
    const ctx = ctxOf(30);
    const cps = checkCheckpoints([sign(10), sign(20)].map((c) => ({ note: c.note })), ctx);
    const c = coverageOf(cps.proven, 0, 30);
    expect(c).toEqual({ start: 0, provenEnd: 20, end: 30, by: 20 });
    expect(uncoveredInBundle(c)).toMatchObject({ kind: 'tampering', check: 'uncovered-entries', seq: 20, range: { from: 20, to: 29 } });
    expect(unsignedInLog(c, true)).toMatchObject({ kind: 'warning', check: 'uncovered-entries', seq: 20 });
  });

  it('a bundle with no checkpoint at all proves nothing, and names its first entry', () => {
    const c = coverageOf([], 12, 30);
    expect(c.provenEnd).toBe(12);
    expect(uncoveredInBundle(c)).toMatchObject({ check: 'uncovered-entries', seq: 12 });
    expect(unsignedInLog(coverageOf([], 0, 30), false)).toMatchObject({ kind: 'warning', check: 'no-checkpoint', seq: 0 });
  });

  it('a checkpoint beyond the entries proves them all only through a consistency proof that verifies', () => {
    const cp = sign(40);
    const good = checkCheckpoints([{ note: cp.note }], ctxOf(30, { proofs: [{ from: 30, to: 40, proof: consistencyProof(tree, 30, 40) }] }));
    expect(coverageOf(good.proven, 0, 30).provenEnd).toBe(30);
    const bad = checkCheckpoints([{ note: cp.note }], ctxOf(30, { proofs: [{ from: 30, to: 40, proof: consistencyProof(tree, 29, 40) }] }));
    expect(bad.proven).toEqual([]);
    const none = checkCheckpoints([{ note: cp.note }], ctxOf(30));
    expect(none.proven).toEqual([]);
    expect(none.findings[0]).toMatchObject({ check: 'log-truncated' });
    const bundle = checkCheckpoints([{ note: cp.note }], ctxOf(30, { source: 'bundle' }));
    expect(bundle.proven).toEqual([]);
    expect(bundle.findings[0]).toMatchObject({ kind: 'tampering', check: 'proof-missing', checkpoint: 40 });
  });

  it('a checkpoint whose root the entries do not give, or signed by another key, proves nothing', () => {
    const forged = signCheckpoint({ origin: ORIGIN, size: 20, root: rootAt(tree, 20) }, signerFromSeed(ORIGIN, randomBytes(32)));
    const r = checkCheckpoints([{ note: sign(20, randomBytes(32)).note }, { note: forged.note }], ctxOf(30));
    expect(r.proven).toEqual([]);
    expect(r.findings.map((f) => f.check).sort()).toEqual(['checkpoint-root', 'checkpoint-signature']);
  });

  it('two signed checkpoints of one size with different roots are a fork, named', () => {
    const r = checkCheckpoints([{ note: sign(20).note }, { note: sign(20, randomBytes(32)).note }], ctxOf(30));
    expect(r.findings.map((f) => f.check)).toContain('checkpoint-fork');
    expect(r.findings.find((f) => f.check === 'checkpoint-fork')).toMatchObject({ kind: 'tampering', checkpoint: 20 });
  });
});

describe('a checkpoint the auditor kept from before', () => {
  const opened = (ctx: CheckpointContext, notes: string[]) => checkCheckpoints(notes.map((note) => ({ note })), ctx);

  it('within the entries: agrees when they give its root, and then proves them', () => {
    const ctx = ctxOf(30);
    const r = checkKnownCheckpoints([known(25)], ctx, opened(ctx, []), 'bundle');
    expect(r.findings).toEqual([]);
    expect(r.results[0]).toMatchObject({ size: 25, consistent: true });
    expect(coverageOf(r.proven, 0, 30).provenEnd).toBe(25);
  });

  it('within the entries, with another root: the log was rewritten since', () => {
    const ctx = ctxOf(30);
    const r = checkKnownCheckpoints([known(25, randomBytes(32))], ctx, opened(ctx, []), 'log');
    expect(r.findings).toEqual([expect.objectContaining({ kind: 'tampering', check: 'known-checkpoint-root', checkpoint: 25 })]);
    expect(r.proven).toEqual([]);
  });

  it('beyond the entries, with nothing reaching it: truncation, named with the first missing entry', () => {
    const ctx = ctxOf(30);
    const r = checkKnownCheckpoints([known(40)], ctx, opened(ctx, [sign(30).note]), 'log');
    expect(r.findings).toEqual([expect.objectContaining({ check: 'known-checkpoint-truncated', checkpoint: 40, seq: 30 })]);
    expect(r.findings[0]!.message).toMatch(/entries 30 to 39 were removed/);
  });

  it('beyond the entries: the same checkpoint proven in the source, or a consistency proof to it, agrees', () => {
    const proofs = [{ from: 30, to: 40, proof: consistencyProof(tree, 30, 40) }];
    const ctx = ctxOf(30, { proofs });
    const same = checkKnownCheckpoints([known(40)], ctx, opened(ctx, [sign(40).note]), 'bundle');
    expect(same.findings).toEqual([]);
    const byProof = checkKnownCheckpoints([known(40)], ctx, opened(ctx, []), 'bundle');
    expect(byProof.findings).toEqual([]);
    expect(coverageOf(byProof.proven, 0, 30).provenEnd).toBe(30);
  });

  it('beyond the entries, where the source holds another checkpoint of that size: re-signed, named', () => {
    const ctx = ctxOf(30);
    const other = sign(40, randomBytes(32));
    const r = checkKnownCheckpoints([known(40)], ctx, opened(ctx, [other.note]), 'bundle');
    expect(r.findings.map((f) => f.check)).toEqual(['known-checkpoint-fork']);
  });

  it('for another log: refused, named', () => {
    const ctx = ctxOf(30, { origin: 'another/log' });
    const r = checkKnownCheckpoints([known(20)], ctx, opened(ctx, []), 'log');
    expect(r.findings.map((f) => f.check)).toEqual(['known-checkpoint-origin']);
  });
});
