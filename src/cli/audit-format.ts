import { safeLine } from '../domain/visible-text.js';
import type { AuditEntry } from '../domain/audit-entry.js';

function summary(e: AuditEntry): string {
  const d = e.data;
  switch (e.type) {
    case 'action.submitted': {
      const i = d.input as { method?: string; path?: string; tool?: string } | undefined;
      const what = i?.method ? `${i.method} ${i.path}` : String(i?.tool ?? '');
      return `${String(d.kind)} ${String(d.target)} ${what}`;
    }
    case 'action.decided':
      return `${String(d.outcome)} by [${(d.rules as string[]).join(', ')}] policy ${String(d.policyVersion).slice(0, 19)}…`;
    case 'action.reviewed':
      return `${String(d.verdict)} by ${String(d.reviewer)} via ${String(d.via)} → ${String(d.outcome)}`;
    case 'action.escalated':
      return `rule ${String(d.ruleId)} escalated to ${(d.to as string[]).join(', ')}`;
    case 'action.expired':
      return `expired (was due ${String(d.expiresAt)})`;
    case 'action.cancelled':
      return 'cancelled';
    case 'execution.started':
      return 'execution started';
    case 'execution.finished':
      return `execution ${String(d.outcome)}${typeof d.status === 'number' ? ` HTTP ${d.status}` : ''}${typeof d.reason === 'string' ? ` (${d.reason})` : ''}`;
    case 'policy.loaded':
      return `policy ${String(d.version).slice(0, 19)}… loaded (${String(d.trigger)}, ${String(d.rules)} rules)`;
    case 'policy.rejected':
      return `policy rejected (${String(d.trigger)}): ${(d.errors as string[])[0] ?? ''}`;
    case 'config.loaded':
      return `config reloaded (${String(d.trigger)}): ${(d.changed as string[]).join(', ') || 'no change'}`;
    case 'config.rejected':
      return `config reload refused (${String(d.trigger)}): ${(d.errors as string[])[0] ?? ''}`;
    case 'action.delivered':
      return `outcome ${String(d.status)} delivered to the agent`;
    case 'mcp.tool.pinned':
      return `mcp ${String(d.server)}: pinned ${(d.tools as Array<{ name: string }>).map((t) => t.name).join(', ')}`;
    case 'mcp.tool.changed':
      return `mcp ${String(d.server)}: tool ${String(d.tool)} CHANGED (${String(d.hash).slice(0, 19)}…, pinned ${String(d.pinnedHash).slice(0, 19)}…)`;
    case 'mcp.tool.repinned':
      return `mcp ${String(d.server)}: tool ${String(d.tool)} re-pinned to ${String(d.hash).slice(0, 19)}…`;
    case 'pgwire.login':
      return `postgres wire log-in ${String(d.outcome)}: ${String(d.user)} to ${String(d.database)} (${String(d.method)}${d.tls === true ? ', TLS' : ''}) from ${String(d.client)}`;
    case 'console.session.started':
      return `console session ${String(d.session)} started for ${String(d.human)}${d.known === false ? ' (unknown user: read-only)' : ''}`;
    case 'console.session.ended':
      return `console session ${String(d.session)} of ${String(d.human)} ended (${String(d.reason)})`;
    case 'chat.identity.linked':
      return `${String(d.channel)} user ${String(d.chatUserId)} linked to ${String(d.human)}`;
    case 'grant.created':
      return `grant ${String(d.grant)} created: ${String(d.text)}`;
    case 'grant.revoked':
      return `grant ${String(d.grant)} revoked${typeof d.reason === 'string' ? `: ${d.reason}` : ''}`;
    case 'grant.ended':
      return `grant ${String(d.grant)} ended (${String(d.reason)}) after ${String(d.uses)} of ${String(d.maxUses)} uses`;
    case 'runner.connected':
      return `runner ${String(d.runner)} connected from ${String(d.host)} (${((d.targets as string[] | undefined) ?? []).join(', ')})`;
    case 'runner.disconnected':
      return `runner ${String(d.runner)} gone (${String(d.reason)})`;
    case 'runner.claimed':
      return `runner ${String(d.runner)} took action ${String(d.actionId)}`;
    case 'runner.refused':
      return `runner credentials refused from ${String(d.client)}: ${String(d.reason)}`;
    case 'runner.result-late':
      return `runner ${String(d.runner)} reported a late result for ${String(d.actionId)} (not recorded on the action)`;
  }
}

export function formatAuditEntry(e: AuditEntry): string {
  const actor = e.actor ? `${e.actor.type}:${e.actor.id}` : '-';
  return safeLine(`#${String(e.seq).padStart(5)} ${e.ts} ${e.type.padEnd(18)} ${(e.actionId ?? '').padEnd(36)} ${actor.padEnd(28)} ${summary(e)}`);
}

export function auditEntryJson(e: AuditEntry): Record<string, unknown> {
  return { seq: e.seq, ts: e.ts, type: e.type, actionId: e.actionId, actor: e.actor, data: e.data, leafHash: Buffer.from(e.leafHash).toString('base64') };
}
