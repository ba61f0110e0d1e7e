import { createHash } from 'node:crypto';

/**
 * The dry run of a `command` action (the target's preview command for the program:
 * `kubectl ... --dry-run=server`, `terraform plan`), shown to reviewers and recorded
 * with the action. Its output hash is what execution is held to with `drift: refuse`.
 */
export interface CommandPreview {
  mode: 'command';
  /** `ok`: exit code 0; `failed`: another exit code or the program could not start; `timeout`: killed at the preview's timeout. */
  status: 'ok' | 'failed' | 'timeout';
  reason?: string;
  /** The preview command as run, the program by its name (never its path). */
  argv: string[];
  exitCode: number | null;
  /** Redacted and cut at the target's maxOutput, like results. */
  stdout: string;
  stderr: string;
  truncated: boolean;
  /** `sha256:<hex>` of the exit code, stdout and stderr as stored. */
  outputHash: string;
  tookMs: number;
  /** In the API's view for the action's parties: the output exists but is shown to reviewers only. */
  outputHidden?: boolean;
}

/** The hash drift compares: of what reviewers were shown, so that a redacted secret that changes is no drift. */
export function commandOutputHash(o: { exitCode: number | null; stdout: string; stderr: string }): string {
  const h = createHash('sha256');
  h.update(`${o.exitCode ?? 'none'}\u0000`).update(o.stdout).update('\u0000').update(o.stderr);
  return `sha256:${h.digest('hex')}`;
}
