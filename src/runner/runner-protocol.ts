import type { ActionPreview } from '../domain/action-record.js';
import type { ExecutorResult } from '../domain/execution-failure.js';
import type { ActionRecord } from '../domain/action-record.js';
import type { CommandJob } from '../adapters/command/command-execute.js';

/**
 * The runner protocol: HTTP long polling, runner → gateway only (no inbound port on the
 * runner). One call, `POST /v1/runner/sync`, carries the runner's state and results
 * and returns work. Long polling over plain HTTP rather than WebSocket or SSE: it goes
 * through every proxy and load balancer as ordinary requests, needs no extra library
 * on either side, and a result is acknowledged in the response to the request that
 * carried it, so a runner knows exactly which results it still holds.
 */
export interface SyncRequest {
  /** This runner process: a new value on every start. */
  instance: string;
  host: string;
  /** The command and postgres targets its own config serves. */
  targets: string[];
  /** Jobs it is running now (their leases are renewed by this call). */
  running: string[];
  /** Results it holds, acknowledged in the response. */
  results: JobResult[];
  /** Longest wait for work, in ms (0: return at once). */
  waitMs: number;
}

export type JobResult =
  | { jobId: string; type: 'execute'; actionId: string; result: ExecutorResult }
  | { jobId: string; type: 'preview'; preview: ActionPreview | null; error?: string };

/**
 * What a runner needs of an approved record to run it: the fingerprint's parts and the
 * preview reviewers saw (both kinds), and for `sql` the facts policy saw and the drift
 * tolerance its execution is held to.
 */
export type RunnerJob = CommandJob & Pick<ActionRecord, 'facts' | 'drift'>;

export type Job =
  | { jobId: string; type: 'execute'; actionId: string; job: RunnerJob }
  | { jobId: string; type: 'preview'; target: string; input: Record<string, unknown> };

export interface SyncResponse {
  jobs: Job[];
  /** jobIds of the results received: the runner forgets them. */
  ack: string[];
  /** The lease, in ms: sync again well within it. */
  leaseMs: number;
  /** The runner's id, as the gateway knows it from its token. */
  runner: string;
}
