import type { ActionRecord, ExecutionResult } from '../domain/action-record.js';

/** Runs an approved action against its target with the gateway's credentials. */
export interface Executor {
  /** Never throws: failures are results. The result holds no secret. */
  execute(action: ActionRecord, signal?: AbortSignal): Promise<Omit<ExecutionResult, 'startedAt' | 'finishedAt'>>;
}
