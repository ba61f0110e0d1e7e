import type { Finding } from './audit-finding.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { openCheckpoint, readCheckpoint } from './checkpoint.js';
import { equalBytes, verifyConsistency } from './merkle.js';
import type { VerifierKey } from './signed-note.js';
import { parseNote, verifyCosignature } from './signed-note.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** A checkpoint as found in the log's store or a bundle. */
export interface CheckpointRecord {
  note: string;
  /** The size and root the store keeps beside the note (absent in bundles). */
  size?: number;
  root?: Uint8Array;
  cosignatures?: readonly string[];
}

export interface CheckpointContext {
  keys: readonly VerifierKey[];
  /** The log's origin, when known (from the config). */
  origin?: string | undefined;
  /** Entries the verifier holds: [start, end). */
  start: number;
  end: number;
  /** Roots recomputed from the entries, by tree size. */
  roots: ReadonlyMap<number, Uint8Array>;
  /** Consistency proofs from `end` to checkpoints beyond it, and between those (bundles). */
  proofs?: ReadonlyArray<{ from: number; to: number; proof: readonly Uint8Array[] }>;
  witnessKeys?: readonly VerifierKey[];
  /** A bundle's range ends where export chose; a log ends where its entries do. */
  source?: 'bundle' | 'log';
}

export interface CheckpointSummary {
  checked: number;
  signedBy: string[];
  latest?: { size: number; root: string };
  cosigned: number;
}

/**
 * Every checkpoint: signed by a trusted key for this log, saying what its row says,
 * with the root the entries give at its size (so that each is consistent with the
 * one before: both are roots of the same entries), or, beyond the entries held, linked
 * to them by a consistency proof. Cosignatures from known witness keys must verify.
 */
export function checkCheckpoints(
  records: readonly CheckpointRecord[],
  ctx: CheckpointContext,
): { findings: Finding[]; summary: CheckpointSummary; opened: SignedCheckpoint[]; proven: SignedCheckpoint[] } {
  const findings: Finding[] = [];
  const opened: SignedCheckpoint[] = [];
  const proven: SignedCheckpoint[] = [];
  const signedBy = new Set<string>();
  let cosigned = 0;
  const bad = (f: Omit<Finding, 'kind'>) => findings.push({ kind: 'tampering', ...f });
  for (const r of records) {
    let claimed: number | undefined = r.size;
    let cp: SignedCheckpoint & { opened?: unknown };
    try {
      claimed ??= readCheckpoint(r.note).size;
    } catch {
      // reported below
    }
    try {
      const o = openCheckpoint(r.note, ctx.keys);
      o.opened.verifiedBy.forEach((k) => signedBy.add(`${k.name}+${Buffer.from(k.keyId).toString('hex')}`));
      cp = o;
    } catch (e) {
      bad({ check: 'checkpoint-signature', ...(claimed !== undefined ? { checkpoint: claimed } : {}), message: `the checkpoint${claimed !== undefined ? ` of ${claimed} entries` : ''} is not signed by a trusted key: ${(e as Error).message}` });
      continue;
    }
    let sound = true;
    if (ctx.origin !== undefined && cp.origin !== ctx.origin) {
      sound = false;
      bad({ check: 'checkpoint-origin', checkpoint: cp.size, message: `the checkpoint of ${cp.size} entries is for another log`, expected: ctx.origin, found: cp.origin });
    }
    if ((r.size !== undefined && r.size !== cp.size) || (r.root && !equalBytes(r.root, cp.root))) {
      sound = false;
      bad({ check: 'checkpoint-row', checkpoint: cp.size, message: `the stored checkpoint row says ${r.size} entries with root ${r.root ? b64(r.root) : '?'}, its signed note says otherwise`, expected: `${cp.size} ${b64(cp.root)}`, found: `${r.size} ${r.root ? b64(r.root) : ''}` });
    }
    const twin = opened.find((o) => o.size === cp.size && !equalBytes(o.root, cp.root));
    if (twin) {
      bad({
        check: 'checkpoint-fork',
        checkpoint: cp.size,
        message: `two checkpoints of ${cp.size} entries are signed with different roots: the log signed two different histories of the same size (a fork), and at most one of them is this log's`,
        expected: b64(twin.root),
        found: b64(cp.root),
      });
    }
    opened.push(cp);
    if (checkAgainstLog(cp, ctx, bad, 'checkpoint') && sound) proven.push(cp);
    for (const line of r.cosignatures ?? []) {
      const result = checkCosignature(cp, line, ctx.witnessKeys ?? []);
      if (result === 'bad') bad({ check: 'cosignature', checkpoint: cp.size, message: `a witness cosignature of the checkpoint of ${cp.size} entries does not verify: the checkpoint is not the one the witness saw` });
      if (result === 'ok') cosigned++;
    }
  }
  // Checkpoints beyond the entries held must also be consistent with one another.
  const beyond = opened.filter((c) => c.size > ctx.end).sort((a, b) => a.size - b.size);
  for (let i = 1; i < beyond.length; i++) {
    const [a, b] = [beyond[i - 1]!, beyond[i]!];
    const p = ctx.proofs?.find((x) => x.from === a.size && x.to === b.size);
    if (!p) findings.push({ kind: 'warning', check: 'consistency-missing', checkpoint: b.size, message: `no consistency proof from the checkpoint of ${a.size} entries to the one of ${b.size}` });
    else if (!verifyConsistency(a.size, b.size, a.root, b.root, p.proof)) {
      bad({ check: 'consistency', checkpoint: b.size, message: `the checkpoint of ${b.size} entries is not consistent with the one of ${a.size}: the log forked or was rewritten between them` });
    }
  }
  const latest = opened.reduce<SignedCheckpoint | undefined>((m, c) => (!m || c.size > m.size ? c : m), undefined);
  return { findings, opened, proven, summary: { checked: records.length, signedBy: [...signedBy], ...(latest ? { latest: { size: latest.size, root: b64(latest.root) } } : {}), cosigned } };
}

function checkCosignature(cp: SignedCheckpoint, line: string, keys: readonly VerifierKey[]): 'ok' | 'bad' | 'unknown' {
  let sig;
  try {
    sig = parseNote(`x\n\n${line.endsWith('\n') ? line : `${line}\n`}`).signatures[0]!;
  } catch {
    return 'bad';
  }
  const key = keys.find((k) => k.name === sig.name && equalBytes(k.keyId, sig.keyId));
  if (!key) return 'unknown';
  const text = cp.note.slice(0, cp.note.lastIndexOf('\n\n') + 1);
  return verifyCosignature(text, sig, key) !== undefined ? 'ok' : 'bad';
}

/**
 * A signed tree head against the entries held: same root at its size, or a proof from
 * them to it. True when that holds, so that the checkpoint proves the entries it covers;
 * false when it fails (reported) or cannot be checked (before the entries held).
 */
function checkAgainstLog(cp: SignedCheckpoint, ctx: CheckpointContext, bad: (f: Omit<Finding, 'kind'>) => void, what: 'checkpoint' | 'witness', source?: string): boolean {
  const from = source ? ` held by the witness ${source}` : '';
  if (cp.size < ctx.start) return false;
  if (cp.size <= ctx.end) {
    const root = ctx.roots.get(cp.size);
    if (!root) return false;
    if (!equalBytes(root, cp.root)) {
      bad({
        check: what === 'checkpoint' ? 'checkpoint-root' : 'witness-root',
        checkpoint: cp.size,
        message:
          what === 'checkpoint'
            ? `the entries before ${cp.size} do not give the root signed for ${cp.size} entries: an entry before ${cp.size} was changed, removed, inserted or moved`
            : `the checkpoint of ${cp.size} entries${from} has another root than the log's: the log was rewritten after the witness saw it`,
        expected: b64(cp.root),
        found: b64(root),
      });
      return false;
    }
    return true;
  }
  const proof = ctx.proofs?.find((p) => p.from === ctx.end && p.to === cp.size)?.proof;
  const end = ctx.roots.get(ctx.end);
  if ((!proof || !end) && ctx.source === 'bundle' && what === 'checkpoint') {
    bad({
      check: 'proof-missing',
      checkpoint: cp.size,
      message: `the bundle holds a checkpoint of ${cp.size} entries but no consistency proof from its range's end (${ctx.end}) to it: the proof was removed, or the entries after ${ctx.end - 1} (the bundle was cut short)`,
      expected: `a proof from ${ctx.end} to ${cp.size}`,
      found: 'none',
    });
    return false;
  }
  if (!proof || !end) {
    bad({
      check: what === 'checkpoint' ? 'log-truncated' : 'witness-ahead',
      checkpoint: cp.size,
      message: `a checkpoint${from} covers ${cp.size} entries, the log has only ${ctx.end}: entries ${ctx.end} to ${cp.size - 1} were removed`,
      expected: String(cp.size),
      found: String(ctx.end),
    });
    return false;
  }
  if (!verifyConsistency(ctx.end, cp.size, end, cp.root, proof)) {
    bad({ check: 'consistency', checkpoint: cp.size, message: `the entries up to ${ctx.end} are not a prefix of the log signed at ${cp.size} entries${from}: the consistency proof fails` });
    return false;
  }
  return true;
}

/** Checkpoints kept outside the log (witness copies): signed by the log, and agreeing with it. */
export function checkWitnessCopies(
  copies: ReadonlyArray<{ source: string; note: string }>,
  ctx: CheckpointContext,
  stored: readonly SignedCheckpoint[],
): { findings: Finding[]; checked: number; proven: SignedCheckpoint[] } {
  const findings: Finding[] = [];
  const proven: SignedCheckpoint[] = [];
  const bySize = new Map(stored.map((c) => [c.size, c]));
  let checked = 0;
  for (const w of copies) {
    let cp: SignedCheckpoint;
    try {
      cp = openCheckpoint(w.note, ctx.keys);
    } catch (e) {
      findings.push({ kind: 'warning', check: 'witness-unsigned', message: `${w.source} holds a checkpoint no trusted key signed (${(e as Error).message}); ignored` });
      continue;
    }
    if (ctx.origin !== undefined && cp.origin !== ctx.origin) continue;
    checked++;
    const mine = bySize.get(cp.size);
    if (mine && !equalBytes(mine.root, cp.root)) {
      findings.push({
        kind: 'tampering',
        check: 'witness-mismatch',
        checkpoint: cp.size,
        message: `the log's checkpoint of ${cp.size} entries differs from the copy held by the witness ${w.source}: it was re-signed after the witness saw it`,
        expected: b64(cp.root),
        found: b64(mine.root),
      });
    }
    if (checkAgainstLog(cp, ctx, (f) => findings.push({ kind: 'tampering', ...f }), 'witness', w.source)) proven.push(cp);
  }
  return { findings, checked, proven };
}
