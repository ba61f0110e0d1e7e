import { truncateMarked } from './review-card.js';
import type { ActionRecord } from './action-record.js';
import { sqlPreviewOf } from './action-record.js';
import { commandLineText } from './command-card.js';
import type { AuditEntry } from './audit-entry.js';

/**
 * The notification feed is the audit log: every committed state change has entries,
 * written in the same transaction, so reading the log from a durable cursor loses
 * nothing on a crash and adds no write to the gate's path. This module says, for one
 * entry, which chat messages must be re-rendered and which webhook events it makes.
 */

export const EVENT_TYPES = [
  'action.pending',
  'action.reviewed',
  'action.escalated',
  'action.approved',
  'action.denied',
  'action.expired',
  'action.cancelled',
  'action.running',
  'action.succeeded',
  'action.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface FeedEffect {
  actionId: string;
  /** The action's chat messages must show its new state. */
  sync: boolean;
  events: EventType[];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** What one audit entry means for channels; undefined for entries that concern no action change. */
export function feedEffect(e: Pick<AuditEntry, 'type' | 'actionId' | 'data'>): FeedEffect | undefined {
  if (!e.actionId) return undefined;
  const at = (events: EventType[], sync = true): FeedEffect => ({ actionId: e.actionId!, sync, events });
  switch (e.type) {
    case 'action.submitted':
    case 'policy.loaded':
    case 'policy.rejected':
    case 'config.loaded':
    case 'config.rejected':
    case 'action.delivered':
    case 'mcp.tool.pinned':
    case 'mcp.tool.changed':
    case 'mcp.tool.repinned':
    case 'pgwire.login':
    case 'console.session.started':
    case 'console.session.ended':
    case 'chat.identity.linked':
    case 'grant.created':
    case 'grant.revoked':
    case 'grant.ended':
    case 'runner.connected':
    case 'runner.disconnected':
    case 'runner.claimed':
    case 'runner.result-late':
    case 'runner.refused':
      return undefined;
    case 'action.decided': {
      const outcome = str(e.data.outcome);
      if (outcome === 'review') return at(['action.pending']);
      if (outcome === 'allow') return at(['action.approved'], false);
      if (outcome === 'deny') return at(['action.denied'], false);
      return undefined;
    }
    case 'action.reviewed': {
      const outcome = str(e.data.outcome);
      const events: EventType[] = ['action.reviewed'];
      if (outcome === 'approved') events.push('action.approved');
      if (outcome === 'denied') events.push('action.denied');
      return at(events);
    }
    case 'action.escalated':
      return at(['action.escalated']);
    case 'action.expired':
      return at(['action.expired']);
    case 'action.cancelled':
      return at(['action.cancelled']);
    case 'execution.started':
      return at(['action.running']);
    case 'execution.finished':
      return at([str(e.data.outcome) === 'succeeded' ? 'action.succeeded' : 'action.failed']);
    default:
      return undefined;
  }
}

/** The webhook-id of an event: unique, and the same on every retry. */
export function eventId(actionId: string, seq: number, type: EventType): string {
  return `msg_${actionId}_${seq}_${type.slice('action.'.length)}`;
}

/**
 * The JSON body of a webhook event. It names what changed and the action's fixed facts;
 * request bodies and headers are not sent (they may hold data the receiver need not see):
 * the `link` leads to the full detail for whoever may read it.
 */
export function eventBody(type: EventType, entry: Pick<AuditEntry, 'seq' | 'ts' | 'type' | 'data'>, a: ActionRecord, publicUrl: string, consoleLinks = false): Record<string, unknown> {
  const data: Record<string, unknown> = {
    actionId: a.id,
    kind: a.kind,
    target: a.target,
    mode: a.mode,
    requester: a.requester,
    fingerprint: a.fingerprint,
    decision: { outcome: a.decision.outcome, rules: a.decision.rules, reason: a.decision.reason, policyVersion: a.decision.policyVersion },
    auditSeq: entry.seq,
    link: `${publicUrl.replace(/\/$/, '')}/v1/actions/${a.id}`,
  };
  if (consoleLinks) data.consoleLink = `${publicUrl.replace(/\/$/, '')}/console/actions/${a.id}`;
  if (a.onBehalfOf) data.onBehalfOf = a.onBehalfOf;
  if (a.kind === 'http') data.operation = { method: a.input.method, path: a.input.path };
  if (a.kind === 'sql') data.operation = sqlOperation(a);
  if (a.kind === 'command') data.operation = commandOperation(a);
  if (entry.type === 'action.reviewed') {
    const d = entry.data;
    data.review = { reviewer: d.reviewer, verdict: d.verdict, via: d.via, ...(typeof d.comment === 'string' ? { comment: d.comment } : {}) };
  }
  if (entry.type === 'action.escalated') data.escalation = { ruleId: entry.data.ruleId, to: entry.data.to };
  if (entry.type === 'execution.finished') {
    const d = entry.data;
    data.result = { ok: d.ok, ...(d.status !== undefined ? { status: d.status } : {}), ...(d.reason !== undefined ? { reason: d.reason } : {}) };
  }
  if (type === 'action.pending' && a.review) data.expiresAt = a.review.expiresAt;
  return { type, timestamp: entry.ts, data };
}

/**
 * A sql action for a webhook: the statement (cut at 4,000 characters, saying so), the
 * facts policy saw and the preview's figures. Params and sample rows stay out, like
 * http bodies: they may hold data the receiver need not see (`link` has the detail).
 */
function sqlOperation(a: ActionRecord): Record<string, unknown> {
  const statement = truncateMarked(typeof a.input.statement === 'string' ? a.input.statement : '', 4000);
  const f = a.facts?.sql;
  const out: Record<string, unknown> = {
    statement: statement.text,
    ...(statement.truncated ? { statementTruncated: true } : {}),
    params: Array.isArray(a.input.params) ? a.input.params.length : 0,
  };
  if (f) out.facts = { types: f.types, tables: f.tables, writes: f.writes, readOnly: f.readOnly, ddl: f.ddl, privilege: f.privilege, export: f.export, unbounded: f.unbounded, dynamic: f.dynamic };
  const p = sqlPreviewOf(a);
  if (p) out.preview = { mode: p.mode, status: p.status, ...(p.reason ? { reason: p.reason } : {}), rows: p.summary.rows };
  return out;
}

/**
 * A command for a webhook: the argv (cut at 4,000 characters), the facts policy saw
 * and the preview's status and output hash. Stdin, files and the preview's output stay
 * out (the `link` has them for whoever may read them).
 */
function commandOperation(a: ActionRecord): Record<string, unknown> {
  const argv = truncateMarked(commandLineText(a.input), 4000);
  const f = a.facts?.command;
  const out: Record<string, unknown> = { argv: argv.text, ...(argv.truncated ? { argvTruncated: true } : {}) };
  if (f) out.facts = { program: f.program, preset: f.preset, verb: f.verb, subcommand: f.subcommand, resource: f.resource, name: f.name, namespace: f.namespace };
  if (a.preview?.mode === 'command') out.preview = { status: a.preview.status, exitCode: a.preview.exitCode, outputHash: a.preview.outputHash };
  return out;
}

/** Exponential backoff with equal jitter: attempt 1 waits about `initialMs`, doubling up to `maxMs`. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, random: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.round(base / 2 + (base / 2) * Math.min(1, Math.max(0, random)));
}
