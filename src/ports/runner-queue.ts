import type { Job, JobResult } from '../runner/runner-protocol.js';

/** A job handed to runners: one of a target's runners takes it, once. */
export interface QueuedJob {
  job: Job;
  target: string;
  /** Runner ids allowed to take it (the target's `runner`). */
  runners: readonly string[];
  /** Epoch ms after which nobody may take it any more (the claim timeout). */
  claimBy: number;
  createdAt: number;
}

/** Where a job stands. `lost`: its runner went silent past its lease while it held it. */
export type JobOutcome =
  | { state: 'queued' }
  | { state: 'claimed' }
  | { state: 'unknown' }
  | { state: 'done'; result: JobResult }
  | { state: 'lost'; runner: string; host: string }
  | { state: 'withdrawn' };

/** A connected runner process, as the queue knows it (whichever replica it talks to). */
export interface RunnerSessionRow {
  instance: string;
  runner: string;
  host: string;
  targets: string[];
  connectedAt: number;
  lastSeen: number;
  /** Jobs it holds now. */
  running: number;
}

/** A session removed because it stayed silent past its lease, with the actions it held. */
export interface ExpiredSession {
  instance: string;
  runner: string;
  host: string;
  interrupted: string[];
}

/** What changed, for waiters: jobs were queued, or these jobs reached an outcome. */
export type QueueEvent = { type: 'queued' } | { type: 'settled'; jobIds: string[] };

/**
 * The hand-off between gateway replicas and runners. A replica queues an approved
 * action's job; whichever replica a runner polls claims it for that runner, atomically,
 * so that each job is taken by one runner process once; the runner's result settles the
 * job, and the replica that queued it reads the outcome. In memory for one process
 * (SQLite); in PostgreSQL for several replicas on one database.
 */
export interface RunnerQueue {
  enqueue(job: QueuedJob): Promise<void>;
  /**
   * Takes the queued jobs this session may run: a target it serves, its runner id allowed,
   * before their claimBy; none if the session has expired. A job is taken once, cluster-wide.
   */
  claim(session: { runner: string; instance: string }, targets: readonly string[], now: number, limit: number): Promise<Job[]>;
  /** Settles the jobs this session claimed with their results; answers the jobIds that were not its to settle (late). */
  settle(instance: string, results: readonly JobResult[]): Promise<string[]>;
  /**
   * Marks lost the jobs this session claimed before `claimedBefore` that it neither runs
   * nor holds a result of (`held`): the response that carried them never reached it.
   */
  dropUnheld(session: { runner: string; instance: string; host: string }, held: readonly string[], claimedBefore: number): Promise<void>;
  outcome(jobId: string): Promise<JobOutcome>;
  /** Withdraws a job nobody has taken: true when withdrawn (then nobody ever takes it); false when a runner holds it or it ended. */
  withdraw(jobId: string): Promise<boolean>;
  /** Drops a job whose outcome was read. */
  forget(jobId: string): Promise<void>;
  /** Records that a session is alive; `created` the first time. `runner` is who owns the instance (a mismatch is refused by the caller). */
  touch(session: { instance: string; runner: string; host: string; targets: readonly string[] }, now: number): Promise<{ created: boolean; runner: string }>;
  /**
   * Removes sessions silent since before `cutoff` and marks what they held lost; each is
   * answered once, cluster-wide (so its audit entry is written once). Drops finished jobs
   * older than `forgetBefore`.
   */
  expire(cutoff: number, forgetBefore: number): Promise<ExpiredSession[]>;
  sessions(): Promise<RunnerSessionRow[]>;
  /** Last time each runner id was seen (epoch ms). */
  lastSeen(): Promise<Map<string, number>>;
  /** Calls `fn` on changes made here or by another replica (best effort: waiters also poll). */
  watch(fn: (e: QueueEvent) => void): () => void;
  close(): Promise<void>;
}
