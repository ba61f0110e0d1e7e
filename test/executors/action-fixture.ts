import type { ActionKind, JsonObject } from '../../src/domain/action.js';
import { fingerprintOf } from '../../src/domain/action.js';
import type { ActionRecord } from '../../src/domain/action-record.js';

/** A running action as the service hands it to an executor, with a matching fingerprint. */
export function runningAction(p: { target: string; input: JsonObject; kind?: ActionKind; id?: string }): ActionRecord {
  const kind = p.kind ?? 'http';
  const requester = { id: 'agent-1', type: 'agent' as const, owner: 'owner@example.com' };
  const ts = '2025-01-01T00:00:00.000Z';
  return {
    id: p.id ?? 'act_1',
    kind,
    target: p.target,
    input: p.input,
    mode: 'execute',
    requester,
    fingerprint: fingerprintOf({ kind, target: p.target, input: p.input, requester: requester.id }),
    status: 'running',
    decision: { outcome: 'allow', rules: ['r1'], policyVersion: 'v1', reason: 'test' },
    result: { ok: false, startedAt: ts },
    createdAt: ts,
    updatedAt: ts,
    version: 3,
  };
}
