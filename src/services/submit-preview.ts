import type { ActionRequest } from '../domain/action.js';
import type { ActionPreview } from '../domain/action-record.js';
import { commandOutputHash } from '../domain/command-preview.js';
import { strictestDrift } from '../domain/drift-tolerance.js';
import { isAppError } from '../domain/errors.js';
import type { Decision } from '../domain/policy-types.js';
import type { DriftTolerance } from '../domain/sql-preview.js';
import type { Clock } from '../ports/clock.js';
import type { Previewer } from '../ports/previewer.js';

/**
 * The dry run, with the drift tolerance of the fired review rules (sql: rows). A
 * previewer that throws or outlives the deadline gives a failed or timed-out preview:
 * reviewers are asked anyway, and see that there is no preview and why. Undefined when
 * the action has no preview.
 */
export async function previewOf(
  previewer: Previewer,
  request: ActionRequest,
  decision: Decision,
  opts: { deadlineMs: number; clock: Clock },
): Promise<{ preview: ActionPreview; drift?: DriftTolerance } | undefined> {
  const { deadlineMs, clock } = opts;
  const t0 = clock.now().getTime();
  const elapsed = () => clock.now().getTime() - t0;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ActionPreview>((resolve) => {
    timer = setTimeout(() => resolve(emptyPreview(request.kind, 'timeout', `no preview within ${Math.round(deadlineMs / 1000)} s`, elapsed())), deadlineMs);
    timer.unref();
  });
  let preview: ActionPreview | undefined;
  try {
    preview = await Promise.race([previewer.preview({ target: request.target, input: request.input }), deadline]);
  } catch (e) {
    // Never the previewer's own message: it could quote the connection or the data.
    preview = emptyPreview(request.kind, 'failed', `the preview failed${isAppError(e) ? ` (${e.code})` : ''}`, elapsed());
  } finally {
    clearTimeout(timer);
  }
  if (!preview) return undefined;
  // A command's preview is held to its output hash, not to row counts.
  if (preview.mode === 'command') return { preview };
  const drift = strictestDrift(
    decision.requirements.map((r) => r.drift),
    preview.summary.rows,
  );
  return { preview, drift };
}

function emptyPreview(kind: string, status: 'failed' | 'timeout', reason: string, tookMs: number): ActionPreview {
  if (kind === 'command') {
    return { mode: 'command', status, reason, argv: [], exitCode: null, stdout: '', stderr: '', truncated: false, outputHash: commandOutputHash({ exitCode: null, stdout: '', stderr: '' }), tookMs };
  }
  return { mode: 'rollback', status, reason, statements: [], summary: { rows: [] }, tookMs };
}
