import { readFileSync } from 'node:fs';
import type { KnownCheckpoint } from '../../domain/audit-coverage.js';
import { openCheckpoint, readCheckpoint } from '../../domain/checkpoint.js';
import type { VerifierKey } from '../../domain/signed-note.js';
import type { ErrorCode } from '../../domain/errors.js';
import { AppError } from '../../domain/errors.js';

/** Why a `--known-checkpoint` cannot be used (codes in the error catalog); each is a usage error, never a verdict on the log. */
export type KnownCheckpointErrorCode = Extract<ErrorCode, `KNOWN_CHECKPOINT_${string}`>;

export class KnownCheckpointError extends AppError {
  constructor(code: KnownCheckpointErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * The signed note in a file the auditor kept: a checkpoint as `GET /v1/audit/checkpoint`
 * serves it, as a bundle (`checkpoints/*.checkpoint`) or a witness folder holds it,
 * with or without cosignature lines; or a JSON document holding one in `checkpoint`
 * (a receipt, an inclusion proof from the API).
 */
export function readKnownCheckpointNote(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KnownCheckpointError('KNOWN_CHECKPOINT_UNREADABLE', `--known-checkpoint ${file}: ${(e as Error).message}`);
  }
  if (text.trimStart().startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new KnownCheckpointError('KNOWN_CHECKPOINT_UNREADABLE', `--known-checkpoint ${file}: not JSON (${(e as Error).message}) nor a signed checkpoint`);
    }
    const note = doc && typeof doc === 'object' ? (doc as { checkpoint?: unknown }).checkpoint : undefined;
    if (typeof note !== 'string') throw new KnownCheckpointError('KNOWN_CHECKPOINT_UNREADABLE', `--known-checkpoint ${file}: the JSON document holds no signed checkpoint ("checkpoint")`);
    text = note;
  }
  try {
    readCheckpoint(text);
  } catch (e) {
    throw new KnownCheckpointError('KNOWN_CHECKPOINT_UNREADABLE', `--known-checkpoint ${file}: not a signed checkpoint (${(e as Error).message})`);
  }
  return text;
}

/**
 * Opens a kept checkpoint with the keys the verification trusts: it anchors the check
 * only if one of them signed it, for this log, at a size the entries held can be
 * linked to (a range bundle starts after it otherwise: nothing in it reaches back).
 */
export function openKnownCheckpoint(file: string, o: { keys: readonly VerifierKey[]; origin?: string | undefined; start: number; keysFromBundle: boolean }): KnownCheckpoint {
  const note = readKnownCheckpointNote(file);
  let cp;
  try {
    cp = openCheckpoint(note, o.keys);
  } catch (e) {
    const trusted = o.keys.map((k) => k.text).join(', ') || 'none';
    const hint = o.keysFromBundle
      ? ' Only the key shipped in the bundle is trusted: pass the log\'s key with --key. If the log\'s own key does not open it either, it was not signed by this log.'
      : ' Pass the key that signed it with --key (the log\'s key before a rotation, for example); if none does, it was not signed by this log.';
    throw new KnownCheckpointError('KNOWN_CHECKPOINT_SIGNATURE', `--known-checkpoint ${file}: the signature does not verify with the trusted keys (${trusted}): ${(e as Error).message}.${hint}`);
  }
  if (o.origin !== undefined && cp.origin !== o.origin) {
    throw new KnownCheckpointError('KNOWN_CHECKPOINT_ORIGIN', `--known-checkpoint ${file}: a checkpoint of the log ${cp.origin}, not of ${o.origin}`);
  }
  if (cp.size < o.start) {
    throw new KnownCheckpointError(
      'KNOWN_CHECKPOINT_BEFORE_RANGE',
      `--known-checkpoint ${file}: it covers ${cp.size} entries, the bundle starts at entry ${o.start}, so nothing in it links back to that checkpoint: export a range that starts at or before entry ${cp.size}`,
    );
  }
  return { origin: cp.origin, size: cp.size, root: cp.root, note: cp.note, source: file };
}
