import type { PostgresTargets } from '../adapters/sql/postgres-targets.js';
import { createPostgresTargets } from '../adapters/sql/postgres-targets.js';
import type { PostgresTargetConfig } from '../config/postgres-schema.js';
import { runnersOf } from '../config/runner-choice.js';
import type { Config } from '../config/schema.js';
import type { ActionRecord } from '../domain/action-record.js';
import type { ExecutorResult } from '../domain/execution-failure.js';
import type { SqlPreview } from '../domain/sql-preview.js';
import type { RunnerJob } from './runner-protocol.js';

export interface RunnerSql {
  targets: readonly string[];
  serves(target: string): boolean;
  preview(target: string, input: Record<string, unknown>): Promise<SqlPreview>;
  execute(actionId: string, job: RunnerJob): Promise<ExecutorResult>;
  close(): Promise<void>;
}

/**
 * The record the gateway's `sql` executor reads, rebuilt from what the runner was sent:
 * the fingerprint's parts (which the executor recomputes and compares), the facts policy
 * saw, the approved preview and its drift tolerance. `running`: the gateway hands a job
 * over only once the action is durably running.
 */
function recordOf(actionId: string, job: RunnerJob): ActionRecord {
  const at = new Date().toISOString();
  return {
    id: actionId,
    kind: job.kind as ActionRecord['kind'],
    target: job.target,
    input: job.input,
    mode: 'execute',
    requester: { id: job.requesterId, type: 'agent' },
    fingerprint: job.fingerprint,
    status: 'running',
    decision: { outcome: 'allow', rules: [], policyVersion: '', reason: 'approved on the gateway' },
    ...(job.facts ? { facts: job.facts } : {}),
    ...(job.preview ? { preview: job.preview } : {}),
    ...(job.drift ? { drift: job.drift } : {}),
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}

/**
 * The postgres targets a runner's config holds (with their URLs, which only the runner
 * has): previews and executions run here with the gateway's own executor and previewer
 * code, drift refusal included. Undefined when the config has none.
 */
export function createRunnerSql(config: Config): RunnerSql | undefined {
  const own = Object.fromEntries(
    Object.entries(config.targets).filter((e): e is [string, PostgresTargetConfig & { url: string }] => e[1].kind === 'postgres' && runnersOf(e[1].runner).length === 0 && e[1].url !== undefined),
  );
  if (Object.keys(own).length === 0) return undefined;
  const pg: PostgresTargets = createPostgresTargets(own);
  return {
    targets: Object.keys(own),
    serves: (target) => pg.settings.has(target),
    preview: (target, input) => pg.previewer.preview({ target, input: input }),
    execute: (actionId, job) => pg.executor.execute(recordOf(actionId, job)),
    close: () => pg.close(),
  };
}
