import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandInput } from '../../domain/command-facts.js';
import type { Redactor } from '../../domain/redact-secrets.js';
import type { CommandTargetSettings } from './command-settings.js';
import { spawnProgram } from './command-spawn.js';

/** One run's outcome, output redacted and decoded. */
export interface CommandRun {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  startError?: string;
  tookMs: number;
}

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Runs a program of the target: in a fresh private directory (mode 0700) holding the
 * action's files, with only the target's env, its fixed PATH and HOME set to that
 * directory; the directory is removed afterwards. Output is read a little past the
 * limit so that a secret straddling the cut is still seen whole, then redacted and cut.
 */
export async function runCommand(
  t: CommandTargetSettings,
  redactor: Redactor,
  run: { program: string; argv: readonly string[]; input: CommandInput; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<CommandRun> {
  const file = t.paths.get(run.program);
  if (!file) return failedStart(`"${run.program}" is not a program of target ${t.name}`);
  const dir = await mkdtemp(join(tmpdir(), 'countersign-run-'));
  try {
    for (const [name, content] of Object.entries(run.input.files ?? {})) {
      // Checked at submission; checked again here, where the file is written.
      if (!FILE_NAME.test(name)) return failedStart(`"${name}" is not a plain file name`);
      await writeFile(join(dir, name), content, { mode: 0o600, flag: 'wx' });
    }
    const slack = redactor.secrets[0]?.length ?? 0;
    const r = await spawnProgram({
      file,
      argv: run.argv,
      env: { ...t.env, PATH: t.path, HOME: dir },
      cwd: t.cwd ?? dir,
      stdin: run.input.stdin,
      timeoutMs: run.timeoutMs,
      keepBytes: t.maxOutputBytes + slack,
      signal: run.signal,
    });
    const stdout = cut(redactor, r.stdout, t.maxOutputBytes);
    const stderr = cut(redactor, r.stderr, t.maxOutputBytes);
    return {
      exitCode: r.exitCode,
      signal: r.signal,
      stdout: stdout.text,
      stderr: stderr.text,
      truncated: r.truncated || stdout.cut || stderr.cut,
      timedOut: r.timedOut,
      aborted: r.aborted,
      ...(r.startError !== undefined ? { startError: r.startError } : {}),
      tookMs: r.tookMs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Redacted first (the whole captured output), then cut to the limit on a character boundary. */
function cut(redactor: Redactor, bytes: Buffer, limit: number): { text: string; cut: boolean } {
  const text = redactor.text(Buffer.from(redactor.bytes(bytes)).toString('utf8'));
  const b = Buffer.from(text, 'utf8');
  if (b.length <= limit) return { text, cut: false };
  return { text: b.subarray(0, limit).toString('utf8').replace(/\uFFFD$/, ''), cut: true };
}

function failedStart(message: string): CommandRun {
  return { exitCode: null, signal: null, stdout: '', stderr: '', truncated: false, timedOut: false, aborted: false, startError: message, tookMs: 0 };
}
