import type { JsonObject } from '../../domain/action.js';
import type { SqlPreview, SqlPreviewMode } from '../../domain/sql-preview.js';
import type { ParsedStatement } from './pg-parse.js';
import { parseStatements } from './pg-parse.js';
import { runPreviewFrame } from './postgres-preview-frame.js';
import type { PgPools } from './postgres-pool.js';
import { rollbackBody } from './postgres-rollback-preview.js';
import { selectBody } from './postgres-select-preview.js';
import type { PostgresTargetSettings } from './postgres-settings.js';
import { readSqlInput } from './sql-input.js';

/** The previewer port's shape (src/ports/sql-previewer.ts): never throws; failures are previews. */
export interface PostgresPreviewer {
  preview(action: { target: string; input: JsonObject }): Promise<SqlPreview>;
}

const empty = (mode: SqlPreviewMode, status: SqlPreview['status'], reason: string, started: number): SqlPreview => ({
  mode,
  status,
  reason,
  statements: [],
  summary: { rows: [] },
  tookMs: Math.round(performance.now() - started),
});

/**
 * Dry runs of `sql` actions on `postgres` targets, in the target's `preview.mode`:
 * `rollback` runs the statements on the primary in a transaction that is always rolled
 * back; `select` writes nothing and reads from `preview.url` (a replica) when set.
 */
export function createPostgresPreviewer(targets: ReadonlyMap<string, PostgresTargetSettings>, pools: PgPools): PostgresPreviewer {
  return {
    async preview(action) {
      const started = performance.now();
      const t = targets.get(action.target);
      if (!t) return empty('rollback', 'failed', `no postgres target named "${action.target}"`, started);
      const mode = t.preview.mode;
      if (!t.preview.enabled) return empty(mode, 'skipped', 'previews are disabled for this target', started);
      const input = readSqlInput(action.input);
      if (typeof input === 'string') return empty(mode, 'failed', input, started);
      let statements: ParsedStatement[];
      try {
        statements = await parseStatements(input.statement);
      } catch (e) {
        return empty(mode, 'failed', `the statement does not parse: ${(e as Error).message}`, started);
      }
      if (statements.length === 0) return empty(mode, 'failed', 'the input holds no statement', started);
      const rollback = mode === 'rollback';
      return runPreviewFrame({
        mode,
        target: t,
        pool: rollback ? pools.primary(t) : pools.preview(t),
        pools,
        statements,
        params: input.params,
        readOnly: !rollback,
        body: rollback ? rollbackBody(t) : selectBody(t),
      });
    },
  };
}
