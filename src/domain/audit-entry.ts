import { hash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

export const AUDIT_TYPES = [
  'action.submitted',
  'action.decided',
  'action.reviewed',
  'action.escalated',
  'action.expired',
  'action.cancelled',
  'execution.started',
  'execution.finished',
  'policy.loaded',
  'policy.rejected',
  // agents plug in: held outcomes delivered to the agent, MCP tool definitions
  'action.delivered',
  'mcp.tool.pinned',
  'mcp.tool.changed',
  'mcp.tool.repinned',
  // the PostgreSQL wire gateway: log-in attempts (docs/postgres-gateway.md)
  'pgwire.login',
  // the web console: sign-ins, sign-outs and revocations, chat accounts linked through the IdP
  'console.session.started',
  'console.session.ended',
  'chat.identity.linked',
  // standing grants (issue 17)
  'grant.created',
  'grant.revoked',
  'grant.ended',
  // config reload (issue 20): the live sections swapped in, or the reload refused
  'config.loaded',
  'config.rejected',
  // runners (docs/commands.md): connections, the actions they take, results that came back too late
  'runner.connected',
  'runner.disconnected',
  'runner.claimed',
  'runner.result-late',
  // a runner's credentials refused (a bad token, a certificate of no runner or another CA)
  'runner.refused',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

export interface AuditActor {
  type: 'agent' | 'human' | 'system';
  id: string;
}

/** An entry before the store gives it a sequence number. */
export interface AuditDraft {
  type: AuditType;
  ts: string;
  actionId?: string;
  actor?: AuditActor;
  data: Record<string, unknown>;
}

export interface AuditEntry extends AuditDraft {
  seq: number;
  /** The canonical JSON bytes the leaf hash covers. */
  bytes: Uint8Array;
  /** SHA-256(0x00 || bytes), the RFC 9162 leaf hash. */
  leafHash: Uint8Array;
}

let scratch = Buffer.alloc(4096);

/** RFC 9162 section 2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export function leafHash(bytes: Uint8Array): Buffer {
  return Buffer.from(leafHashLatin1(bytes), 'latin1');
}

/** leafHash() as a 32-character latin1 string: one native call, and a string digest costs a third of a Buffer one. */
export function leafHashLatin1(bytes: Uint8Array): string {
  if (bytes.length + 1 > scratch.length) scratch = Buffer.alloc(2 ** Math.ceil(Math.log2(bytes.length + 1)));
  scratch[0] = 0;
  scratch.set(bytes, 1);
  return hash('sha256', scratch.subarray(0, bytes.length + 1), 'binary');
}

/**
 * The exact bytes of an entry: RFC 8785 canonical JSON of its envelope. The
 * sequence number is inside the bytes, so an entry cannot be moved without
 * changing its hash.
 */
export function encodeAuditEntry(seq: number, d: AuditDraft): AuditEntry {
  const bytes = entryBytes(encodeDraft(d), seq);
  // Built field by field: spreading the draft costs more than encoding it (measured).
  const entry: AuditEntry = { type: d.type, ts: d.ts, data: d.data, seq, bytes, leafHash: leafHash(bytes) };
  if (d.actionId !== undefined) entry.actionId = d.actionId;
  if (d.actor !== undefined) entry.actor = d.actor;
  return entry;
}

/**
 * A draft's canonical bytes but its sequence number, which only the store gives, in
 * its write transaction: the text before the number and after it. In RFC 8785 order
 * the envelope's keys before `seq` are actionId, actor and data, and those after it
 * ts, type and v, so each part is the canonical JSON of its own keys. Lets the thread
 * that makes a draft encode it, and the store's writer only join and hash.
 */
export interface EncodedDraft {
  type: AuditType;
  ts: string;
  actionId?: string;
  head: string;
  tail: string;
}

export function encodeDraft(d: AuditDraft): EncodedDraft {
  const before = member('actionId', d.actionId) + member('actor', d.actor) + member('data', d.data);
  const e: EncodedDraft = { type: d.type, ts: d.ts, head: `{${before.slice(1)}${before ? ',' : ''}"seq":`, tail: `${member('ts', d.ts)}${member('type', d.type)},"v":1}` };
  if (d.actionId !== undefined) e.actionId = d.actionId;
  return e;
}

/** `,"key":value` as canonical JSON writes an object's member, or nothing for a value it leaves out. */
function member(key: string, v: unknown): string {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol' ? '' : `,"${key}":${canonicalJson(v)}`;
}

/** The canonical bytes of the entry numbered `seq` (what `encodeAuditEntry` stores and hashes). */
export function entryBytes(e: EncodedDraft, seq: number): Buffer {
  return Buffer.from(e.head + seq + e.tail, 'utf8');
}

export function decodeAuditEntry(bytes: Uint8Array): AuditEntry {
  const o = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  const entry: AuditEntry = {
    seq: o.seq as number,
    ts: o.ts as string,
    type: o.type as AuditType,
    data: o.data as Record<string, unknown>,
    bytes,
    leafHash: leafHash(bytes),
  };
  if (typeof o.actionId === 'string') entry.actionId = o.actionId;
  if (o.actor && typeof o.actor === 'object') entry.actor = o.actor as AuditActor;
  return entry;
}
