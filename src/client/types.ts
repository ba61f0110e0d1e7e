import type { ActionKind, ActionMode, HttpInput, SqlInput } from '../domain/action.js';
import type { ExecutionResult } from '../domain/action-record.js';
import type { SqlFacts } from '../domain/sql-facts.js';
import type { CommandFacts } from '../domain/command-facts.js';
import type { CommandPreview } from '../domain/command-preview.js';
import type { DriftTolerance, SqlPreview } from '../domain/sql-preview.js';
import type { Status } from '../domain/status.js';

export type { ActionKind, ActionMode, DriftTolerance, HttpInput, SqlFacts, SqlInput, SqlPreview, Status };

export interface SubmitRequest {
  kind: ActionKind;
  target: string;
  input: Record<string, unknown> | HttpInput | SqlInput;
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
  decision: {
    outcome: 'allow' | 'review' | 'deny';
    rules: string[];
    policyVersion: string;
    reason: string;
    /** Shadow rules that fired, and what enforcing them would have decided (docs/policy.md). */
    shadow?: { rules: string[]; outcome: 'allow' | 'review' | 'deny'; disagrees: boolean };
    /** The standing grant that allowed it instead of a review. */
    grant?: { id: string; use: number; policyOutcome: 'allow' | 'review' | 'deny' };
  };
  /** The standing grant its approval created. */
  grant?: { id: string; expiresAt: string; maxUses: number; text: string };
  /** Pending, where approvals may grant: the policy's bounds and the scope in plain words. */
  grantable?: { maxTtl: string; maxUses: number; scope: Record<string, unknown>; text: string; paths?: string[] };
  review?: {
    requirements: RequirementView[];
    approvals: ReviewView[];
    reviews: ReviewView[];
    expiresAt: string;
    /** The caller's standing: may they decide it now, and if not, the code a decision would be refused with. */
    you?: { canDecide: boolean; reason?: string };
  };
  /** What the gateway got back when it ran the action (the runner, internal, is not shown). */
  result?: Omit<ExecutionResult, 'runner'>;
  /** What policy saw besides the input: for sql, the parser's facts. */
  facts?: { sql?: SqlFacts; command?: CommandFacts };
  /** sql and command: the dry run shown to reviewers (`mode: command` for commands). */
  preview?: SqlPreview | CommandPreview;
  /** sql: how far execution may stray from the previewed row counts. */
  drift?: DriftTolerance;
  /** Sequence numbers of the action's audit entries (its receipt proves them). */
  auditSeqs?: number[];
  createdAt: string;
  updatedAt: string;
  links: { self: string };
}

/** An offline receipt (GET /v1/actions/{id}/receipt); `countersign audit verify --receipt FILE --key VKEY` checks it. */
export type { Receipt } from '../domain/receipt.js';

export interface ActionPage {
  actions: Action[];
  nextCursor?: string;
}

export interface WaitOptions {
  /** Give up after this many seconds (default: wait until settled). */
  timeoutSeconds?: number;
  signal?: AbortSignal;
  /** Seconds per long poll (the server caps it; default 30). */
  pollSeconds?: number;
}
