import { describe, expect, it } from 'vitest';
import type { AuditDraft } from './audit-entry.js';
import { AUDIT_TYPES, encodeAuditEntry } from './audit-entry.js';
import { toCloudEvent, toOcsf } from './siem-events.js';

const ctx = { origin: 'audit.example.com/log', version: '1.2.3' };
const ts = '2030-01-01T00:00:00.000Z';
const data: Record<string, Record<string, unknown>> = {
  'action.submitted': { kind: 'http', target: 'github', mode: 'execute', fingerprint: 'sha256:f', requester: { id: 'bot', type: 'agent', owner: 'o@x' } },
  'action.decided': { outcome: 'deny', rules: ['no-deletes'], policyVersion: 'sha256:p', reason: 'no', fingerprint: 'sha256:f' },
  'action.reviewed': { reviewer: 'alice@x', groups: ['release'], verdict: 'approve', outcome: 'approved', fingerprint: 'sha256:f' },
  'execution.finished': { outcome: 'failed', ok: false, reason: 'timeout' },
  'policy.loaded': { version: 'sha256:p', trigger: 'startup', rules: 3 },
};
const entry = (type: (typeof AUDIT_TYPES)[number], seq = 7) => {
  const d: AuditDraft = { type, ts, data: data[type] ?? {}, ...(type.startsWith('policy') ? {} : { actionId: 'act_1234567890', actor: { type: 'agent' as const, id: 'bot' } }) };
  return encodeAuditEntry(seq, d);
};

describe('SIEM events', () => {
  it('every entry type is an OCSF 1.8 API Activity with the security_control profile and its required attributes', () => {
    for (const type of AUDIT_TYPES) {
      const o = toOcsf(entry(type), ctx);
      expect(o).toMatchObject({ class_uid: 6003, category_uid: 6, metadata: { version: '1.8.0', profiles: ['security_control'], product: { name: 'Countersign' }, sequence: 7 } });
      expect(o.type_uid).toBe(600300 + (o.activity_id as number));
      for (const k of ['activity_id', 'severity_id', 'time', 'actor', 'api', 'src_endpoint', 'status_id', 'action_id', 'disposition_id']) expect(o[k], `${type} ${k}`).toBeDefined();
      expect((o.api as { operation: string }).operation).toBe(type);
      expect(o.raw_data).toBe(Buffer.from(entry(type).bytes).toString('utf8'));
    }
  });

  it('maps decisions to security-control outcomes, with the policy as the authorization', () => {
    const denied = toOcsf(entry('action.decided'), ctx);
    expect(denied).toMatchObject({ action_id: 2, action: 'Denied', disposition_id: 2, disposition: 'Blocked', authorizations: [{ decision: 'deny', policy: { uid: 'sha256:p', name: 'no-deletes' } }] });
    expect(toOcsf(entry('action.reviewed'), ctx)).toMatchObject({ action_id: 1, disposition_id: 8, authorizations: [{ decision: 'approve' }] });
    expect(toOcsf(entry('execution.finished'), ctx)).toMatchObject({ status_id: 2, status: 'Failure', disposition_id: 27 });
  });

  it('is a CloudEvents 1.0 event with a unique id per log entry and a sequence that sorts as text', () => {
    const c = toCloudEvent(entry('action.submitted', 42), ctx);
    expect(c).toMatchObject({ specversion: '1.0', id: 'audit.example.com/log/42', type: 'dev.countersign.audit.action.submitted', time: ts, subject: 'act_1234567890', datacontenttype: 'application/json', sequence: '0000000000000042' });
    expect(String(c.source)).toMatch(/^urn:countersign:/);
    expect(String(toCloudEvent(entry('action.submitted', 9), ctx).sequence) < String(c.sequence)).toBe(true);
    for (const k of Object.keys(c)) expect(k).toMatch(/^[a-z0-9]{1,20}$/);
  });
});
