import type { ActionRecord, Requester } from '../../../domain/action-record.js';
import type { AuditDraft, AuditType, EncodedDraft } from '../../../domain/audit-entry.js';
import { encodeDraft } from '../../../domain/audit-entry.js';
import type { TallyEntry } from '../../../domain/history-types.js';
import { audienceOf } from '../action-audience.js';
import { storageError } from '../store-error.js';
import { rowOf } from './sqlite-rows.js';

/** What the writes of a new action read of its record besides its row: idempotency, held calls, the history index. */
export type ActionFacts = Pick<ActionRecord, 'id' | 'status' | 'target' | 'fingerprint' | 'idempotencyKey' | 'tally' | 'createdAt' | 'updatedAt' | 'version'> & {
  requester: Pick<Requester, 'id'>;
};

/** The `actions` row's values in column order (sqlite-actions.ts COLUMNS), `record` last and without its auditSeqs. */
export type PackedRow = [string, string, string, string, string | null, number, number, number | null, number | null, number, string];

/** A new action as the writer uses it, unpacked in the writer thread. */
export interface ActionInsert {
  facts: ActionFacts;
  row: PackedRow;
  audience: string[];
  drafts: EncodedDraft[];
}

/**
 * A new action and its entries as the writer thread receives them: one flat array of
 * strings and numbers (layout in packAction). Everything the insert writes is serialized
 * once, on the thread that made the action, so the writer only adds the sequence numbers,
 * which it alone knows, to the record's JSON and to the entries' bytes. Flat, because a
 * structured clone costs by the object more than by the byte: posted to a worker in
 * batches of 8, the record and its drafts as objects cost 11 µs per action (both
 * threads), the packed fields as nested objects 8 µs, as one array 3 µs
 * (docs/benchmarks.md, allow path).
 */
export type PackedAction = ReadonlyArray<string | number | null> & { readonly packed: never };

const ROW = 11;
/** After the row: target, fingerprint, createdAt, updatedAt, tally (JSON or null), the audience's length, then the audience and five values per draft. */
const HEAD = ROW + 6;
const PER_DRAFT = 5;

/**
 * Packs an insert's action and drafts. Runs on the calling thread, before the write is
 * queued: what cannot be encoded (a timestamp, a value canonical JSON refuses) fails the
 * write as it did inside the writer, and nothing is written.
 */
export function packAction(a: ActionRecord, drafts: readonly AuditDraft[]): PackedAction {
  try {
    const r = rowOf(a.auditSeqs === undefined ? a : { ...a, auditSeqs: undefined });
    const audience = audienceOf(a);
    const out: Array<string | number | null> = [r.id, r.status, r.mode, r.requester_id, r.idempotency_key, r.created_at, r.updated_at, r.expires_at, r.next_escalation_at, r.version, r.record];
    out.push(a.target, a.fingerprint, a.createdAt, a.updatedAt, a.tally === undefined ? null : JSON.stringify(a.tally), audience.length, ...audience);
    for (const d of drafts) {
      const e = encodeDraft(d);
      out.push(e.ts, e.type, e.actionId ?? null, e.head, e.tail);
    }
    return out as unknown as PackedAction;
  } catch (e) {
    throw storageError(e);
  }
}

/** The writer's side of packAction. */
export function unpackAction(p: PackedAction): ActionInsert {
  const v = p as ReadonlyArray<string | number | null>;
  const row = v.slice(0, ROW) as PackedRow;
  const facts: ActionFacts = {
    id: row[0],
    status: row[1] as ActionFacts['status'],
    requester: { id: row[3] },
    version: row[9],
    target: v[ROW] as string,
    fingerprint: v[ROW + 1] as string,
    createdAt: v[ROW + 2] as string,
    updatedAt: v[ROW + 3] as string,
  };
  if (row[4] !== null) facts.idempotencyKey = row[4];
  if (v[ROW + 4] !== null) facts.tally = JSON.parse(v[ROW + 4] as string) as TallyEntry[];
  const audienceEnd = HEAD + (v[ROW + 5] as number);
  const drafts: EncodedDraft[] = [];
  for (let i = audienceEnd; i + PER_DRAFT <= v.length; i += PER_DRAFT) {
    const d: EncodedDraft = { ts: v[i] as string, type: v[i + 1] as AuditType, head: v[i + 3] as string, tail: v[i + 4] as string };
    if (v[i + 2] !== null) d.actionId = v[i + 2] as string;
    drafts.push(d);
  }
  return { facts, row, audience: v.slice(HEAD, audienceEnd) as string[], drafts };
}

/** The record's JSON with its entries' sequence numbers, as `rowOf` of the stored record writes it. */
export function recordWithSeqs(json: string, auditSeqs: readonly number[]): string {
  return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"auditSeqs":${JSON.stringify(auditSeqs)}}`;
}
