import type { ActionRequest } from '../domain/action.js';
import { strictestDrift } from '../domain/drift-tolerance.js';
import { isAppError } from '../domain/errors.js';
import type { Decision } from '../domain/policy-types.js';
import type { DriftTolerance, SqlPreview } from '../domain/sql-preview.js';
import type { Clock } from '../ports/clock.js';
import type { SqlPreviewer } from '../ports/sql-previewer.js';

/**
 * The dry run, with the drift tolerance of the fired review rules. A previewer that
 * throws or outlives the deadline gives a failed or timed-out preview: reviewers are
 * asked anyway, and see that there is no preview and why.
 */
export async function previewOf(
  previewer: SqlPreviewer,
  request: ActionRequest,
  decision: Decision,
  opts: { deadlineMs: number; clock: Clock },
): Promise<{ preview: SqlPreview; drift: DriftTolerance }> {
  const { deadlineMs, clock } = opts;
  const t0 = clock.now().getTime();
  const elapsed = () => clock.now().getTime() - t0;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<SqlPreview>((resolve) => {
    timer = setTimeout(() => resolve(emptyPreview('timeout', `no preview within ${Math.round(deadlineMs / 1000)} s`, elapsed())), deadlineMs);
    timer.unref();
  });
  let preview: SqlPreview;
  try {
    preview = await Promise.race([previewer.preview({ target: request.target, input: request.input }), deadline]);
  } catch (e) {
    // Never the previewer's own message: it could quote the connection or the data.
    preview = emptyPreview('failed', `the preview failed${isAppError(e) ? ` (${e.code})` : ''}`, elapsed());
  } finally {
    clearTimeout(timer);
  }
  const drift = strictestDrift(
    decision.requirements.map((r) => r.drift),
    preview.summary.rows,
  );
  return { preview, drift };
}

function emptyPreview(status: 'failed' | 'timeout', reason: string, tookMs: number): SqlPreview {
  return { mode: 'rollback', status, reason, statements: [], summary: { rows: [] }, tookMs };
}

