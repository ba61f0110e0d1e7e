import type { CheckpointContext } from './audit-checkpoint-checks.js';
import type { Finding } from './audit-finding.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { equalBytes, verifyConsistency } from './merkle.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/**
 * Which of the entries held a signature proves. An entry is proven when a checkpoint
 * signed by a trusted key, and found to agree with the entries (same root at its size,
 * or a consistency proof from them to it), covers it; everything else is only
 * consistent among itself, which anyone who can write the entries can achieve.
 */
export interface Coverage {
  /** Entries [start, provenEnd) are proven; [provenEnd, end) are not. */
  start: number;
  provenEnd: number;
  end: number;
  /** The smallest proven checkpoint that reaches provenEnd (its tree size). */
  by?: number;
}

/** The coverage given by the checkpoints that were proven against the entries [start, end). */
export function coverageOf(proven: readonly SignedCheckpoint[], start: number, end: number): Coverage {
  let provenEnd = start;
  let by: number | undefined;
  for (const cp of proven) {
    const reach = Math.min(cp.size, end);
    if (reach > provenEnd || (reach === provenEnd && by !== undefined && cp.size < by)) {
      provenEnd = reach;
      by = cp.size;
    }
  }
  return { start, provenEnd, end, ...(by !== undefined && provenEnd > start ? { by } : {}) };
}

/**
 * In a bundle every entry must be proven: `audit export` writes only entries a signed
 * checkpoint covers, so an unproven one was added, or changed after the checkpoints
 * that covered it were removed.
 */
export function uncoveredInBundle(c: Coverage): Finding | undefined {
  if (c.provenEnd >= c.end) return undefined;
  const from = c.provenEnd;
  const what = from === c.start ? 'no checkpoint in the bundle that a trusted key signed and that agrees with the entries covers them' : `the checkpoints in the bundle prove entries ${c.start} to ${from - 1} only`;
  return {
    kind: 'tampering',
    check: 'uncovered-entries',
    seq: from,
    range: { from, to: c.end - 1 },
    message: `entries ${from} to ${c.end - 1} are not covered by a signed checkpoint: ${what}. audit export writes only signed entries, so they were added or changed, or the checkpoints covering them were removed`,
    expected: `signed up to ${c.end}`,
    found: `signed up to ${from}`,
  };
}

/** A checkpoint the auditor kept from before (`--known-checkpoint`), already opened with the trusted keys. */
export interface KnownCheckpoint extends SignedCheckpoint {
  source: string;
}

export interface KnownResult {
  source: string;
  size: number;
  root: string;
  /** True when the entries (or a signed checkpoint linked to them) agree with it. */
  consistent: boolean;
}

/**
 * Each known checkpoint against what is verified: at a size within the entries held,
 * the entries must give its root; beyond them, the source must hold a proven
 * checkpoint of that size with the same root, or a consistency proof from its end to
 * it; otherwise the log is shorter than what the auditor saw: truncated.
 */
export function checkKnownCheckpoints(
  known: readonly KnownCheckpoint[],
  ctx: CheckpointContext,
  signed: { opened: readonly SignedCheckpoint[]; proven: readonly SignedCheckpoint[] },
  what: 'bundle' | 'log',
): { findings: Finding[]; results: KnownResult[]; proven: SignedCheckpoint[] } {
  const findings: Finding[] = [];
  const results: KnownResult[] = [];
  const proven: SignedCheckpoint[] = [];
  const bad = (f: Omit<Finding, 'kind'>) => findings.push({ kind: 'tampering', ...f });
  for (const k of known) {
    const ok = checkOne(k, ctx, signed, what, bad);
    if (ok) proven.push(k);
    results.push({ source: k.source, size: k.size, root: b64(k.root), consistent: ok });
  }
  return { findings, results, proven };
}

function checkOne(
  k: KnownCheckpoint,
  ctx: CheckpointContext,
  signed: { opened: readonly SignedCheckpoint[]; proven: readonly SignedCheckpoint[] },
  what: 'bundle' | 'log',
  bad: (f: Omit<Finding, 'kind'>) => void,
): boolean {
  const yours = `the checkpoint you kept (${k.source}, ${k.size} entries)`;
  if (ctx.origin !== undefined && k.origin !== ctx.origin) {
    bad({ check: 'known-checkpoint-origin', checkpoint: k.size, message: `${yours} is for another log`, expected: ctx.origin, found: k.origin });
    return false;
  }
  if (k.size < ctx.start) {
    // The caller refuses this before verifying (nothing here can link it to the range).
    bad({ check: 'known-checkpoint-before-range', checkpoint: k.size, message: `${yours} ends before the entries held (from ${ctx.start}): it cannot be checked against them` });
    return false;
  }
  if (k.size <= ctx.end) {
    const root = ctx.roots.get(k.size);
    if (root && equalBytes(root, k.root)) return true;
    bad({
      check: 'known-checkpoint-root',
      checkpoint: k.size,
      message: `the entries before ${k.size} do not give the root of ${yours}: the ${what} was rewritten after that checkpoint was signed (an entry before ${k.size} was changed, removed, inserted or moved)`,
      expected: b64(k.root),
      found: root ? b64(root) : 'none',
    });
    return false;
  }
  const same = signed.opened.filter((c) => c.size === k.size);
  if (signed.proven.some((c) => c.size === k.size && equalBytes(c.root, k.root))) return true;
  const other = same.find((c) => !equalBytes(c.root, k.root));
  if (other) {
    bad({
      check: 'known-checkpoint-fork',
      checkpoint: k.size,
      message: `the ${what} holds a checkpoint of ${k.size} entries with another root than ${yours}: the log was rewritten and re-signed after you kept it`,
      expected: b64(k.root),
      found: b64(other.root),
    });
    return false;
  }
  const proof = ctx.proofs?.find((p) => p.from === ctx.end && p.to === k.size)?.proof;
  const end = ctx.roots.get(ctx.end);
  if (proof && end) {
    if (verifyConsistency(ctx.end, k.size, end, k.root, proof)) return true;
    bad({ check: 'known-checkpoint-consistency', checkpoint: k.size, message: `the entries up to ${ctx.end} are not a prefix of the log of ${yours}: the consistency proof fails` });
    return false;
  }
  bad({
    check: 'known-checkpoint-truncated',
    checkpoint: k.size,
    seq: ctx.end,
    message:
      what === 'log'
        ? `${yours} covers ${k.size} entries, the log holds only ${ctx.end}: entries ${ctx.end} to ${k.size - 1} were removed (the log was truncated)`
        : `${yours} covers ${k.size} entries; the bundle ends at ${ctx.end} and proves nothing up to ${k.size}: entries ${ctx.end} to ${k.size - 1}, or the checkpoints and proofs reaching them, were removed (a bundle exported before that checkpoint was signed cannot show it either: export again)`,
    expected: String(k.size),
    found: String(ctx.end),
  });
  return false;
}

/** In a live log, entries after the newest checkpoint are legitimately unsigned for a while: a warning that says which. */
export function unsignedInLog(c: Coverage, signedAny: boolean): Finding | undefined {
  if (c.provenEnd >= c.end) return undefined;
  const from = c.provenEnd;
  return signedAny || from > c.start
    ? { kind: 'warning', check: 'uncovered-entries', seq: from, message: `entries ${from} to ${c.end - 1} are not covered by a signed checkpoint yet: consistent with the log, not proven` }
    : { kind: 'warning', check: 'no-checkpoint', seq: from, message: `no signed checkpoint covers entries ${from} to ${c.end - 1}: they are consistent among themselves, but nothing signed vouches for them` };
}
