import type { AuditEntry, AuditType } from './audit-entry.js';

/**
 * Audit entries as SIEM events: OCSF 1.8 API Activity (class 6003, category 6) with
 * the security_control profile, and CloudEvents 1.0 (structured mode). Both carry the
 * entry's canonical bytes and leaf hash, so that a SIEM copy can be checked against
 * the signed log later. Entries hold no secrets, and neither do these.
 */

export const SIEM_FORMATS = ['ocsf', 'cloudevents'] as const;
export type SiemFormat = (typeof SIEM_FORMATS)[number];

export interface SiemContext {
  /** The log's origin (checkpoint name). */
  origin: string;
  version: string;
}

const OCSF_VERSION = '1.8.0';
const API_ACTIVITY = 6003;
const APPLICATION = 6;

// activity_id of API Activity: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other.
const ACTIVITY: Record<AuditType, { id: number; name: string }> = {
  'action.submitted': { id: 1, name: 'Create' },
  'action.decided': { id: 3, name: 'Update' },
  'action.reviewed': { id: 3, name: 'Update' },
  'action.escalated': { id: 3, name: 'Update' },
  'action.expired': { id: 3, name: 'Update' },
  'action.cancelled': { id: 3, name: 'Update' },
  'execution.started': { id: 99, name: 'Execute' },
  'execution.finished': { id: 99, name: 'Execute' },
  'policy.loaded': { id: 99, name: 'Policy Load' },
  'policy.rejected': { id: 99, name: 'Policy Load' },
  'action.delivered': { id: 2, name: 'Read' },
  'mcp.tool.pinned': { id: 1, name: 'Create' },
  'mcp.tool.changed': { id: 3, name: 'Update' },
  'mcp.tool.repinned': { id: 3, name: 'Update' },
  'pgwire.login': { id: 99, name: 'Logon' },
  'console.session.started': { id: 1, name: 'Create' },
  'console.session.ended': { id: 4, name: 'Delete' },
  'chat.identity.linked': { id: 1, name: 'Create' },
  'grant.created': { id: 1, name: 'Create' },
  'grant.revoked': { id: 4, name: 'Delete' },
  'grant.ended': { id: 4, name: 'Delete' },
  'config.loaded': { id: 99, name: 'Config Load' },
  'config.rejected': { id: 99, name: 'Config Load' },
  'runner.connected': { id: 99, name: 'Connect' },
  'runner.disconnected': { id: 99, name: 'Disconnect' },
  'runner.claimed': { id: 99, name: 'Execute' },
  'runner.result-late': { id: 99, name: 'Execute' },
  'runner.refused': { id: 99, name: 'Logon' },
};

// security_control: action_id (0 Unknown, 1 Allowed, 2 Denied, 3 Observed, 4 Modified, 99 Other)
// and disposition_id (1 Allowed, 2 Blocked, 8 Approved, 14 Delayed, 16 No Action, 17 Logged, 25 Rejected, 27 Error).
const ACTIONS = { 0: 'Unknown', 1: 'Allowed', 2: 'Denied', 3: 'Observed', 4: 'Modified', 99: 'Other' } as const;
const DISPOSITIONS = { 1: 'Allowed', 2: 'Blocked', 8: 'Approved', 14: 'Delayed', 16: 'No Action', 17: 'Logged', 25: 'Rejected', 27: 'Error' } as const;

function control(e: AuditEntry): { action: keyof typeof ACTIONS; disposition: keyof typeof DISPOSITIONS; alert: boolean } {
  const d = e.data;
  switch (e.type) {
    case 'action.decided':
      if (d.outcome === 'allow') return { action: 1, disposition: 1, alert: false };
      if (d.outcome === 'deny') return { action: 2, disposition: 2, alert: false };
      return { action: 99, disposition: 14, alert: false };
    case 'action.reviewed':
      if (d.verdict === 'deny') return { action: 2, disposition: 25, alert: false };
      return d.outcome === 'approved' ? { action: 1, disposition: 8, alert: false } : { action: 3, disposition: 8, alert: false };
    case 'action.expired':
      return { action: 2, disposition: 2, alert: false };
    case 'action.cancelled':
      return { action: 3, disposition: 16, alert: false };
    case 'execution.started':
      return { action: 1, disposition: 1, alert: false };
    case 'execution.finished':
      return { action: 3, disposition: d.ok === true ? 17 : 27, alert: false };
    case 'policy.rejected':
    case 'config.rejected':
      return { action: 3, disposition: 27, alert: true };
    case 'pgwire.login':
      return d.outcome === 'ok' ? { action: 1, disposition: 1, alert: false } : { action: 2, disposition: 2, alert: false };
    case 'runner.refused':
      // Someone holds a runner's certificate or token that does not add up: worth an alert.
      return { action: 2, disposition: 2, alert: true };
    case 'runner.result-late':
      // A command ran whose outcome the gateway had already reported as interrupted.
      return { action: 3, disposition: 27, alert: true };
    case 'mcp.tool.changed':
      // A tool definition changed under the agents (a possible rug pull): worth an alert.
      return { action: 3, disposition: 17, alert: true };
    case 'action.submitted':
    case 'action.escalated':
    case 'policy.loaded':
    case 'config.loaded':
    case 'action.delivered':
    case 'mcp.tool.pinned':
    case 'mcp.tool.repinned':
    case 'console.session.started':
    case 'console.session.ended':
    case 'chat.identity.linked':
    case 'grant.created':
    case 'grant.revoked':
    case 'grant.ended':
    case 'runner.connected':
    case 'runner.disconnected':
    case 'runner.claimed':
      return { action: 3, disposition: 17, alert: false };
  }
}

function message(e: AuditEntry): string {
  const d = e.data;
  const on = e.actionId ? ` ${e.actionId}` : '';
  switch (e.type) {
    case 'action.submitted':
      return `action${on} submitted for ${String(d.kind)} target ${String(d.target)}`;
    case 'action.decided':
      return `action${on} decided ${String(d.outcome)} by ${((d.rules as string[] | undefined) ?? []).join(', ') || 'default'}`;
    case 'action.reviewed':
      return `action${on} ${d.verdict === 'approve' ? 'approved' : 'denied'} by ${String(d.reviewer)}: ${String(d.outcome)}`;
    case 'action.escalated':
      return `action${on} escalated (rule ${String(d.ruleId)})`;
    case 'action.expired':
      return `action${on} expired`;
    case 'action.cancelled':
      return `action${on} cancelled`;
    case 'execution.started':
      return `action${on} execution started`;
    case 'execution.finished':
      return `action${on} execution ${String(d.outcome)}`;
    case 'policy.loaded':
      return `policy ${String(d.version)} loaded (${String(d.trigger)})`;
    case 'policy.rejected':
      return `policy rejected (${String(d.trigger)})`;
    case 'config.loaded':
      return `config reloaded (${String(d.trigger)})`;
    case 'config.rejected':
      return `config reload refused (${String(d.trigger)})`;
    case 'action.delivered':
      return `action${on} outcome delivered to the agent`;
    case 'mcp.tool.pinned':
      return `MCP tools of ${String(d.server)} pinned`;
    case 'mcp.tool.changed':
      return `MCP tool ${String(d.server)}/${String(d.tool)} changed its definition`;
    case 'pgwire.login':
      return `postgres wire log-in ${String(d.outcome)} for ${String(d.user)} to ${String(d.database)}`;
    case 'mcp.tool.repinned':
      return `MCP tool ${String(d.server)}/${String(d.tool)} re-pinned`;
    case 'console.session.started':
      return `console session ${String(d.session)} started for ${String(d.human)}`;
    case 'console.session.ended':
      return `console session ${String(d.session)} ended (${String(d.reason)})`;
    case 'chat.identity.linked':
      return `${String(d.channel)} user ${String(d.chatUserId)} linked to ${String(d.human)}`;
    case 'grant.created':
      return `grant ${String(d.grant)} created with the approval of${on}`;
    case 'grant.revoked':
      return `grant ${String(d.grant)} revoked`;
    case 'grant.ended':
      return `grant ${String(d.grant)} ended (${String(d.reason)})`;
    case 'runner.connected':
      return `runner ${String(d.runner)} connected from ${String(d.host)}`;
    case 'runner.disconnected':
      return `runner ${String(d.runner)} gone (${String(d.reason)})`;
    case 'runner.claimed':
      return `runner ${String(d.runner)} took action ${String(d.actionId)}`;
    case 'runner.result-late':
      return `runner ${String(d.runner)} reported a result for action ${String(d.actionId)} after it was marked interrupted`;
    case 'runner.refused':
      return `runner credentials refused from ${String(d.client)}: ${String(d.reason)}`;
  }
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function policyOf(e: AuditEntry): Record<string, unknown> | undefined {
  const v = e.data.policyVersion ?? (e.type === 'policy.loaded' ? e.data.version : undefined);
  if (typeof v !== 'string') return undefined;
  const rules = e.data.rules;
  return { uid: v, version: v, name: Array.isArray(rules) && rules.length ? rules.join(', ') : 'countersign policy', is_applied: e.type === 'action.decided' };
}

function userOf(e: AuditEntry): Record<string, unknown> | undefined {
  if (!e.actor) return undefined;
  // user.type_id: 1 User, 3 System, 99 Other (agents).
  const typeId = e.actor.type === 'human' ? 1 : e.actor.type === 'system' ? 3 : 99;
  return { uid: e.actor.id, name: e.actor.id, type_id: typeId, type: e.actor.type === 'human' ? 'User' : e.actor.type === 'system' ? 'System' : 'Agent' };
}

/** OCSF 1.8 API Activity (6003) with the security_control profile. */
export function toOcsf(e: AuditEntry, ctx: SiemContext): Record<string, unknown> {
  const act = ACTIVITY[e.type];
  const c = control(e);
  const ok = e.type !== 'execution.finished' || e.data.ok === true;
  const policy = policyOf(e);
  const user = userOf(e);
  const event: Record<string, unknown> = {
    class_uid: API_ACTIVITY,
    class_name: 'API Activity',
    category_uid: APPLICATION,
    category_name: 'Application Activity',
    activity_id: act.id,
    activity_name: act.name,
    type_uid: API_ACTIVITY * 100 + act.id,
    type_name: `API Activity: ${act.name}`,
    time: Date.parse(e.ts),
    severity_id: c.alert ? 3 : 1,
    severity: c.alert ? 'Medium' : 'Informational',
    status_id: ok ? 1 : 2,
    status: ok ? 'Success' : 'Failure',
    message: message(e),
    metadata: {
      version: OCSF_VERSION,
      profiles: ['security_control'],
      product: { name: 'Countersign', vendor_name: 'Countersign', version: ctx.version },
      log_name: ctx.origin,
      uid: `${ctx.origin}/${e.seq}`,
      sequence: e.seq,
      original_time: e.ts,
      event_code: e.type,
    },
    actor: { ...(user ? { user } : {}), app_name: 'countersign' },
    api: {
      operation: e.type,
      service: { name: 'countersign' },
      request: { uid: e.actionId ?? `${ctx.origin}/${e.seq}` },
    },
    src_endpoint: { name: e.actor?.id ?? 'countersign' },
    action_id: c.action,
    action: ACTIONS[c.action],
    disposition_id: c.disposition,
    disposition: DISPOSITIONS[c.disposition],
    is_alert: c.alert,
    raw_data: Buffer.from(e.bytes).toString('utf8'),
    unmapped: { countersign: { seq: e.seq, leaf_hash: b64(e.leafHash), type: e.type, ...(e.actionId ? { action_id: e.actionId } : {}) } },
  };
  if (policy) {
    event.policy = policy;
    const decision = typeof e.data.outcome === 'string' ? e.data.outcome : typeof e.data.verdict === 'string' ? e.data.verdict : undefined;
    if (decision) event.authorizations = [{ decision, policy }];
  }
  if (e.type === 'action.reviewed' && typeof e.data.verdict === 'string') event.authorizations = [{ decision: e.data.verdict, ...(policy ? { policy } : {}) }];
  if (e.actionId && typeof e.data.target === 'string') event.resources = [{ uid: e.actionId, name: e.data.target, type: typeof e.data.kind === 'string' ? e.data.kind : 'action' }];
  return event;
}

/** CloudEvents 1.0, structured JSON; `sequence` (the sequence extension) is zero-padded to sort as text. */
export function toCloudEvent(e: AuditEntry, ctx: SiemContext): Record<string, unknown> {
  const { seq, ts, type, actionId, actor, data } = e;
  return {
    specversion: '1.0',
    id: `${ctx.origin}/${seq}`,
    source: `urn:countersign:${encodeURIComponent(ctx.origin)}`,
    type: `dev.countersign.audit.${type}`,
    time: ts,
    ...(actionId ? { subject: actionId } : {}),
    datacontenttype: 'application/json',
    sequence: String(seq).padStart(16, '0'),
    leafhash: b64(e.leafHash),
    data: { seq, ts, type, ...(actionId ? { actionId } : {}), ...(actor ? { actor } : {}), data },
  };
}

export function toSiemEvent(format: SiemFormat, e: AuditEntry, ctx: SiemContext): Record<string, unknown> {
  return format === 'ocsf' ? toOcsf(e, ctx) : toCloudEvent(e, ctx);
}
