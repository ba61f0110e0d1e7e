import { fingerprintOf } from '../../domain/action.js';
import type { ActionPreview } from '../../domain/action-record.js';
import { checkCommandInput } from '../../domain/command-input.js';
import type { CommandResultBody } from '../../domain/command-result.js';
import { isAppError } from '../../domain/errors.js';
import type { ExecutorResult } from '../../domain/execution-failure.js';
import { executionFailure } from '../../domain/execution-failure.js';
import type { Redactor } from '../../domain/redact-secrets.js';
import { computePreview } from './command-preview-run.js';
import { runCommand } from './command-run.js';
import type { CommandTargetSettings } from './command-settings.js';

/** What whoever runs a command needs of its approved record: the fingerprint's parts and the preview reviewers saw. */
export interface CommandJob {
  kind: string;
  target: string;
  input: Record<string, unknown>;
  requesterId: string;
  fingerprint: string;
  preview?: ActionPreview | undefined;
}

/**
 * Runs an approved command: the fingerprint is recomputed from what is about to run
 * and must be the approved one; with `drift: refuse` the preview is run again and its
 * output must hash as the one reviewers saw; then exactly the approved argv, once.
 * Never throws: failures are results. `ranOn` says where it ran (`local`, a runner id).
 */
export async function executeCommand(t: CommandTargetSettings, redactor: Redactor, job: CommandJob, ranOn: string, signal?: AbortSignal): Promise<ExecutorResult> {
  let expected: string;
  try {
    expected = fingerprintOf({ kind: job.kind, target: job.target, input: job.input, requester: job.requesterId });
  } catch {
    return executionFailure('FINGERPRINT_MISMATCH', 'the action cannot be fingerprinted; nothing was run');
  }
  if (job.kind !== 'command' || expected !== job.fingerprint) return executionFailure('FINGERPRINT_MISMATCH', 'the action does not match its approved fingerprint; nothing was run');
  let input;
  try {
    input = checkCommandInput(job.input, t.info).input;
  } catch (e) {
    return executionFailure('VALIDATION_FAILED', `${isAppError(e) ? e.message : 'the input is invalid'}; nothing was run`);
  }
  const approved = job.preview?.mode === 'command' ? job.preview : undefined;
  if (t.drift === 'refuse' && approved) {
    if (approved.status !== 'ok') {
      return executionFailure('PREVIEW_UNAVAILABLE', `the approved preview ${approved.status === 'timeout' ? 'timed out' : 'failed'}: there is no approved output to compare with, so nothing was run`);
    }
    const now = await computePreview(t, redactor, job.input, signal);
    if (!now || now.outputHash !== approved.outputHash) {
      const body: CommandResultBody = {
        exitCode: null,
        stdout: '',
        stderr: '',
        truncated: false,
        tookMs: now?.tookMs ?? 0,
        ranOn,
        drift: { approvedHash: approved.outputHash, actualHash: now?.outputHash ?? 'none', actual: { exitCode: now?.exitCode ?? null, stdout: now?.stdout ?? '', stderr: now?.stderr ?? '' } },
      };
      return executionFailure('DRIFT', `drift: the preview's output changed since review (${approved.outputHash.slice(0, 19)} approved, ${(now?.outputHash ?? 'no preview').slice(0, 19)} now); nothing was run`, { body, bodyEncoding: 'json' });
    }
  }
  if (signal?.aborted) return executionFailure('ABORTED', 'the execution was cancelled before anything was run');
  const run = await runCommand(t, redactor, { program: input.argv[0]!, argv: input.argv, input, timeoutMs: t.timeoutMs, signal });
  const body: CommandResultBody = {
    exitCode: run.exitCode,
    ...(run.signal ? { signal: run.signal } : {}),
    stdout: run.stdout,
    stderr: run.stderr,
    truncated: run.truncated,
    tookMs: run.tookMs,
    ranOn,
  };
  const extra = { exitCode: run.exitCode, body, bodyEncoding: 'json' as const, ...(run.truncated ? { bodyTruncated: true } : {}) };
  if (run.startError) return executionFailure('EXECUTION_FAILED', `the program could not start: ${run.startError}`, extra);
  if (run.timedOut) return executionFailure('TIMEOUT', `killed after the target's timeout of ${Math.round(t.timeoutMs / 1000)} s`, extra);
  if (run.aborted) return executionFailure('ABORTED', 'the run was cancelled and its process group killed', extra);
  return { ok: run.exitCode === 0, ...extra };
}
