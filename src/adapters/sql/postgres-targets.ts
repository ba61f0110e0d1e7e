import { AppError } from '../../domain/errors.js';
import type { Executor } from '../../ports/executor.js';
import { createSqlExecutor } from '../executors/sql-executor.js';
import type { PgPools } from './postgres-pool.js';
import { createPgPools } from './postgres-pool.js';
import type { PostgresPreviewer } from './postgres-previewer.js';
import { createPostgresPreviewer } from './postgres-previewer.js';
import type { PostgresTargetInput, PostgresTargetSettings } from './postgres-settings.js';
import { postgresSettings } from './postgres-settings.js';

export interface PostgresTargets {
  /** Runs approved `sql` actions (the Executor port). */
  executor: Executor;
  /** Dry runs for reviewers (the SqlPreviewer port). */
  previewer: PostgresPreviewer;
  /** The frozen settings per target name. */
  settings: ReadonlyMap<string, PostgresTargetSettings>;
  /** The pools executor and previewer share (the wire gateway's catalog look-ups and cancels use them too). */
  pools: PgPools;
  /** Ends every pool; call on shutdown. */
  close(): Promise<void>;
}

/**
 * Everything the gateway needs for its `postgres` targets, sharing one pool per target:
 * wire `executor` for kind `sql` and `previewer` into the submit path. Throws
 * CONFIG_INVALID (at start) on a bad mask rule, duration or size, naming the target.
 */
export function createPostgresTargets(targets: Record<string, PostgresTargetInput>): PostgresTargets {
  const settings = new Map<string, PostgresTargetSettings>();
  for (const [name, cfg] of Object.entries(targets)) {
    try {
      settings.set(name, postgresSettings(name, cfg));
    } catch (e) {
      throw new AppError('CONFIG_INVALID', `targets.${name}: ${(e as Error).message}`);
    }
  }
  const pools = createPgPools();
  return {
    executor: createSqlExecutor({ targets: settings, pools }),
    previewer: createPostgresPreviewer(settings, pools),
    settings,
    pools,
    close: () => pools.close(),
  };
}
