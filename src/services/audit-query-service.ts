import type { AuditEntry } from '../domain/audit-entry.js';
import { withCosignatures } from '../domain/checkpoint.js';
import { AppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import type { Receipt } from '../domain/receipt.js';
import { tlogProof } from '../domain/receipt.js';
import type { AuditLog, StoredCheckpoint } from '../ports/audit-log.js';
import type { Store } from '../ports/store.js';
import type { QueryService } from './query-service.js';

export interface AuditQueryService {
  /** The latest signed checkpoint (the note, with cosignatures). */
  checkpoint(who: Principal): Promise<string>;
  entries(who: Principal, start: number, end: number): Promise<{ size: number; entries: AuditEntry[] }>;
  inclusion(who: Principal, index: number, size?: number): Promise<{ index: number; size: number; leafHash: Uint8Array; proof: Uint8Array[]; checkpoint?: string }>;
  consistency(who: Principal, from: number, to?: number): Promise<{ from: number; to: number; proof: Uint8Array[] }>;
  /** An action's receipt: whoever may read the action may read its receipt (agents: their own). */
  receipt(who: Principal, actionId: string): Promise<Receipt>;
}

/** Most entries one read returns. */
export const MAX_ENTRIES = 1000;

export function createAuditQueryService(deps: { store: Store; log: AuditLog; queries: QueryService; readerGroups: readonly string[] }): AuditQueryService {
  const { store, log } = deps;

  function reader(who: Principal): void {
    if (who.type !== 'human' || !who.groups.some((g) => deps.readerGroups.includes(g))) {
      throw new AppError('FORBIDDEN', `Reading the audit log needs membership of ${deps.readerGroups.map((g) => `group:${g}`).join(' or ') || 'an audit reader group (none configured)'}`);
    }
  }

  const note = (cp: StoredCheckpoint) => withCosignatures(cp.note, cp.cosignatures);

  async function latest(): Promise<StoredCheckpoint> {
    const cp = await log.latestCheckpoint();
    if (!cp) throw new AppError('AUDIT_NO_CHECKPOINT', 'No signed checkpoint yet: the first is signed within seconds of the first entry');
    return cp;
  }

  function range(name: string, n: number, min: number, max: number): void {
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new AppError('AUDIT_RANGE', `${name} must be between ${min} and ${max}`, { [name]: n, min, max });
  }

  return {
    async checkpoint(who) {
      reader(who);
      return note(await latest());
    },
    async entries(who, start, end) {
      reader(who);
      const size = await log.treeSize();
      range('start', start, 0, size);
      range('end', end, start, start + MAX_ENTRIES);
      return { size, entries: await store.readAudit(start, Math.min(end, size)) };
    },
    async inclusion(who, index, size) {
      reader(who);
      const cp = size === undefined ? await latest() : undefined;
      const n = size ?? cp!.size;
      range('size', n, 1, await log.treeSize());
      range('index', index, 0, n - 1);
      const [entry] = await store.readAudit(index, index + 1);
      if (!entry) throw new AppError('AUDIT_RANGE', `No entry ${index}`);
      const exact = cp ?? (await log.checkpointCovering(n));
      return { index, size: n, leafHash: entry.leafHash, proof: await log.inclusionProof(index, n), ...(exact && exact.size === n ? { checkpoint: note(exact) } : {}) };
    },
    async consistency(who, from, to) {
      reader(who);
      const n = to ?? (await latest()).size;
      range('to', n, 1, await log.treeSize());
      range('from', from, 1, n);
      return { from, to: n, proof: await log.consistencyProof(from, n) };
    },
    async receipt(who, actionId) {
      const action = await deps.queries.get(who, actionId);
      const seqs = action.auditSeqs ?? (await store.auditSeqsFor(actionId));
      const cp = await log.latestCheckpoint();
      const checkpoint = cp ? note(cp) : null;
      const entries: Receipt['entries'] = [];
      const pending: number[] = [];
      for (const seq of seqs) {
        if (!cp || seq >= cp.size) {
          pending.push(seq);
          continue;
        }
        const [e] = await store.readAudit(seq, seq + 1);
        if (!e) throw new AppError('INTERNAL', `audit entry ${seq} of ${actionId} is missing`);
        const proof = await log.inclusionProof(seq, cp.size);
        entries.push({
          seq,
          entry: Buffer.from(e.bytes).toString('utf8'),
          leafHash: Buffer.from(e.leafHash).toString('base64'),
          proof: proof.map((h) => Buffer.from(h).toString('base64')),
          tlogProof: tlogProof(seq, proof, checkpoint!, e.bytes),
        });
      }
      return { format: 'countersign-receipt/v1', actionId, checkpoint, treeSize: cp?.size ?? 0, entries, pending };
    },
  };
}
