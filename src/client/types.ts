import type { ActionKind, ActionMode, HttpInput } from '../domain/action.js';
import type { Status } from '../domain/status.js';

export type { ActionKind, ActionMode, HttpInput, Status };

export interface SubmitRequest {
  kind: ActionKind;
  target: string;
  input: Record<string, unknown> | HttpInput;
  justification?: string;
  context?: Record<string, unknown>;
  onBehalfOf?: string;
  mode?: ActionMode;
}

export interface ReviewView {
  reviewer: string;
  verdict: 'approve' | 'deny';
  fingerprint?: string;
  comment?: string;
  via: string;
  at: string;
  countsFor: string[];
}

export interface RequirementView {
  ruleId: string;
  approvers: string[];
  quorum: number;
  timeoutMs: number;
  escalate?: { afterMs: number; to: string[]; at: string; done: boolean };
  approvedBy: string[];
}

/** An action as the API returns it. */
export interface Action {
  id: string;
  status: Status;
  kind: ActionKind;
  target: string;
  input: Record<string, unknown>;
  mode: ActionMode;
  justification?: string;
  context?: Record<string, unknown>;
  onBehalfOf?: string;
  fingerprint: string;
  requester: { id: string; type: 'agent' | 'human'; owner?: string };
  decision: { outcome: 'allow' | 'review' | 'deny'; rules: string[]; policyVersion: string; reason: string };
  review?: { requirements: RequirementView[]; approvals: ReviewView[]; reviews: ReviewView[]; expiresAt: string };
  result?: {
    ok: boolean;
    startedAt: string;
    finishedAt?: string;
    reason?: string;
    status?: number;
    headers?: Record<string, string>;
    body?: unknown;
    /** json: parsed JSON; text: UTF-8 text; base64: the bytes, base64-encoded. */
    bodyEncoding?: 'json' | 'text' | 'base64';
    bodyTruncated?: boolean;
    error?: { code: string; message: string };
  };
  /** Sequence numbers of the action's audit entries (its receipt proves them). */
  auditSeqs?: number[];
  createdAt: string;
  updatedAt: string;
  links: { self: string };
}

/**
 * An offline receipt (GET /v1/actions/{id}/receipt): the action's audit entries with
 * RFC 9162 inclusion proofs against a signed checkpoint; `countersign audit verify
 * --receipt FILE --key VKEY` checks it.
 */
export interface Receipt {
  format: 'countersign-receipt/v1';
  actionId: string;
  checkpoint: string | null;
  treeSize: number;
  entries: Array<{ seq: number; entry: string; leafHash: string; proof: string[]; tlogProof: string }>;
  pending: number[];
}

export interface ActionPage {
  actions: Action[];
  nextCursor?: string;
}
