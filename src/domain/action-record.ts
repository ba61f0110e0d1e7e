import type { ActionKind, ActionMode, JsonObject } from './action.js';
import type { GrantUse, Outcome, ShadowResult } from './policy-types.js';
import type { TallyEntry } from './history-types.js';
import type { CommandFacts } from './command-facts.js';
import type { SqlFacts } from './sql-facts.js';
import type { CommandPreview } from './command-preview.js';
import type { DriftTolerance, SqlPreview } from './sql-preview.js';

/** A dry run shown to reviewers: of a sql statement, or of a command (`mode: command`). */
export type ActionPreview = SqlPreview | CommandPreview;

/** The sql preview of a record, if it has one. */
export function sqlPreviewOf(a: { preview?: ActionPreview | undefined }): SqlPreview | undefined {
  return a.preview && a.preview.mode !== 'command' ? a.preview : undefined;
}
import type { ReviewState } from './review.js';
import type { Status } from './status.js';

export interface Requester {
  id: string;
  type: 'agent' | 'human';
  /** The agent's owner; absent for human requesters. */
  owner?: string;
}

/** What the gateway got back when it ran the action, with secrets redacted. */
export interface ExecutionResult {
  ok: boolean;
  startedAt: string;
  finishedAt?: string;
  /** Why it failed without a response: `interrupted`, `timeout`, an error code. */
  reason?: string;
  status?: number;
  /** For command actions: the program's exit code (null when it was killed by a signal). */
  exitCode?: number | null;
  headers?: Record<string, string>;
  body?: unknown;
  /** How `body` is stored: parsed JSON, UTF-8 text, or base64 of bytes that are not UTF-8. */
  bodyEncoding?: 'json' | 'text' | 'base64';
  bodyTruncated?: boolean;
  error?: { code: string; message: string };
  /**
   * Who is running it, while running: the process and a lease. Start-up recovery
   * interrupts a running action only when its runner is gone (same host, dead pid)
   * or its lease ran out, so a sibling process on the same store is never cut off.
   */
  runner?: Runner;
}

export interface Runner {
  host: string;
  pid: number;
  instance: string;
  leaseUntil: string;
}

/** The durable record of one action. `version` increases on every change (the CAS token). */
export interface ActionRecord {
  id: string;
  kind: ActionKind;
  target: string;
  input: JsonObject;
  justification?: string;
  context?: JsonObject;
  onBehalfOf?: string;
  mode: ActionMode;
  requester: Requester;
  fingerprint: string;
  status: Status;
  decision: { outcome: Outcome; rules: string[]; policyVersion: string; reason: string; shadow?: ShadowResult; grant?: GrantUse };
  review?: ReviewState;
  /** When the next escalation is due, if any (for the scheduler's index). */
  nextEscalationAt?: string;
  result?: ExecutionResult;
  /** What the gateway found in the input for policy (sql: the parser's facts), as policy saw it. */
  facts?: { sql?: SqlFacts; command?: CommandFacts };
  /** For sql and command actions held for review: the dry run reviewers saw; execution is compared with it (drift). */
  preview?: ActionPreview;
  /** The strictest drift tolerance of the fired review rules (absent: no preview, nothing to compare). */
  drift?: DriftTolerance;
  idempotencyKey?: string;
  /** The counter hits this action makes once allowed or executed (the store indexes them then). */
  tally?: TallyEntry[];
  /** For a review a grant may answer: the facts a grant given with its approval would pin. */
  grantScope?: Record<string, unknown>;
  /** The standing grant its approval created. */
  grant?: { id: string; expiresAt: string; maxUses: number; text: string };
  /** Sequence numbers of the action's audit entries, in order; assigned by the store when they commit. */
  auditSeqs?: number[];
  createdAt: string;
  updatedAt: string;
  version: number;
}
