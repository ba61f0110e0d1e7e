import type { CommandFacts } from '../../domain/command-facts.js';
import { checkCommandInput } from '../../domain/command-input.js';
import type { CommandPreview } from '../../domain/command-preview.js';
import { commandOutputHash } from '../../domain/command-preview.js';
import type { Redactor } from '../../domain/redact-secrets.js';
import type { CommandRun } from './command-run.js';
import { runCommand } from './command-run.js';
import type { CommandTargetSettings } from './command-settings.js';

/** The preview command of an action: `{program}` is the program, `{args}` splices the action's arguments. */
export function previewArgv(template: readonly string[], argv: readonly string[]): string[] {
  return template.flatMap((a) => (a === '{program}' ? [argv[0]!] : a === '{args}' ? argv.slice(1) : [a]));
}

/**
 * Whether the target previews this action: a preview for its program whose `when`
 * holds on the action's facts. A `when` that fails to evaluate counts as holding:
 * reviewers see a dry run rather than none.
 */
function previewFor(t: CommandTargetSettings, facts: CommandFacts) {
  const p = t.preview.get(facts.program);
  if (!p?.when) return p;
  try {
    return p.when.run({ cmd: facts, action: { kind: 'command', target: t.name }, target: { name: t.name, kind: 'command', labels: t.labels }, requester: {} }) === true ? p : undefined;
  } catch {
    return p;
  }
}

/** Runs the target's preview of an input (already checked at submission); undefined when the target has none for it. */
export async function computePreview(t: CommandTargetSettings, redactor: Redactor, raw: Record<string, unknown>, signal?: AbortSignal): Promise<CommandPreview | undefined> {
  const { input, facts } = checkCommandInput(raw, t.info);
  const p = previewFor(t, facts);
  if (!p) return undefined;
  const argv = previewArgv(p.argv, input.argv);
  const program = argv[0]!;
  const run = await runCommand(t, redactor, { program, argv, input, timeoutMs: p.timeoutMs, signal });
  return previewOfRun(argv, run);
}

export function previewOfRun(argv: string[], run: CommandRun): CommandPreview {
  const status: CommandPreview['status'] = run.timedOut ? 'timeout' : run.exitCode === 0 ? 'ok' : 'failed';
  const reason = run.startError
    ? `the preview could not start: ${run.startError}`
    : run.timedOut
      ? `killed after ${Math.round(run.tookMs / 1000)} s`
      : run.exitCode !== 0
        ? run.exitCode === null
          ? `ended by ${run.signal ?? 'a signal'}`
          : `exited with code ${run.exitCode}`
        : undefined;
  return {
    mode: 'command',
    status,
    ...(reason !== undefined ? { reason } : {}),
    argv,
    exitCode: run.exitCode,
    stdout: run.stdout,
    stderr: run.stderr,
    truncated: run.truncated,
    outputHash: commandOutputHash(run),
    tookMs: run.tookMs,
  };
}
