import { openCheckpoint, signCheckpoint } from '../domain/checkpoint.js';
import { AppError } from '../domain/errors.js';
import { equalBytes, verifyConsistency } from '../domain/merkle.js';
import type { SignerKey, VerifierKey } from '../domain/signed-note.js';
import type { AuditLog, StoredCheckpoint } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import { crashPoint } from '../testing/crash-point.js';

export interface CheckpointService {
  /**
   * Signs and stores a checkpoint of the whole log when one is due: `maxEntries`
   * entries are uncovered, or the oldest uncovered entry would otherwise wait longer
   * than `maxDelayMs`. Never signs a tree that is not an extension of the previous
   * signed checkpoint (checked with a consistency proof first): that throws
   * AUDIT_INCONSISTENT and signs nothing. Returns the checkpoint stored, if any.
   */
  tick(): Promise<StoredCheckpoint | undefined>;
}

export function createCheckpointService(deps: {
  log: AuditLog;
  store: Pick<Store, 'readAudit'>;
  signer: SignerKey;
  /** Keys a previous checkpoint may be signed with (the signer's, and rotated ones). */
  trusted: readonly VerifierKey[];
  clock: Clock;
  maxEntries: number;
  maxDelayMs: number;
  /** How early to sign before the delay runs out (the tick interval). */
  slackMs: number;
}): CheckpointService {
  const { log, signer } = deps;
  const trusted = deps.trusted.some((k) => k.text === signer.verifier.text) ? deps.trusted : [signer.verifier, ...deps.trusted];

  async function due(from: number, size: number): Promise<boolean> {
    if (size - from >= deps.maxEntries) return true;
    const [oldest] = await deps.store.readAudit(from, from + 1);
    if (!oldest) return true;
    return deps.clock.now().getTime() - Date.parse(oldest.ts) + deps.slackMs >= deps.maxDelayMs;
  }

  /** The tree must extend the last signed checkpoint, and that checkpoint must be ours as stored. */
  async function checkExtends(prev: StoredCheckpoint, size: number, root: Uint8Array): Promise<void> {
    let opened;
    try {
      opened = openCheckpoint(prev.note, trusted);
    } catch (e) {
      throw new AppError('AUDIT_INCONSISTENT', `the latest stored checkpoint (size ${prev.size}) does not verify: ${(e as Error).message}`);
    }
    if (opened.size !== prev.size || !equalBytes(opened.root, prev.root) || opened.origin !== signer.name) {
      throw new AppError('AUDIT_INCONSISTENT', `the latest stored checkpoint (size ${prev.size}) does not say what its row says`);
    }
    if (prev.size === 0) return;
    const proof = await log.consistencyProof(prev.size, size);
    if (!verifyConsistency(prev.size, size, prev.root, root, proof)) {
      throw new AppError('AUDIT_INCONSISTENT', `the log of ${size} entries is not an extension of the checkpoint of ${prev.size}: entries before ${prev.size} were changed`);
    }
  }

  return {
    async tick() {
      const prev = await log.latestCheckpoint();
      const size = await log.treeSize();
      const from = prev?.size ?? 0;
      if (size === 0 || size <= from) return undefined;
      if (!(await due(from, size))) return undefined;
      const root = await log.rootAt(size);
      if (prev) await checkExtends(prev, size, root);
      const cp = signCheckpoint({ origin: signer.name, size, root }, signer);
      const stored = { size, root, note: cp.note, signedAt: deps.clock.now().toISOString() };
      crashPoint('checkpoint.signed');
      // Compare-and-swap: another process may have signed meanwhile; then its checkpoint stands.
      if (!(await log.addCheckpoint(stored, prev?.size ?? -1))) return undefined;
      return { ...stored, cosignatures: [] };
    },
  };
}
