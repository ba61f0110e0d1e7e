import type { Command } from 'commander';
import { CommanderError } from 'commander';
import { CountersignError } from '../client/errors.js';
import { isAppError } from '../domain/errors.js';
import { quietOnClosedOutput } from './closed-stdout.js';

/** Exit codes shared by every command; documented in docs/cli.md. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
} as const;

/** An error that ends a command with a message and an exit code, without a stack trace. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Subcommands copy settings when created, so the override must reach each one, or commander exits 1 itself. */
function overrideExits(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) overrideExits(sub);
}

export async function runCli(program: Command, argv: string[]): Promise<void> {
  overrideExits(program);
  quietOnClosedOutput();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.USAGE;
      return;
    }
    if (e instanceof CliExit) {
      if (e.message) process.stderr.write(`${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    // Our errors and the API's (CountersignError from the SDK) both carry a stable code.
    if (isAppError(e) || e instanceof CountersignError) {
      // A storage failure names its cause here, for the operator (the API never shows it).
      const cause = isAppError(e) && e.code === 'STORAGE_ERROR' && e.cause instanceof Error ? ` (${e.cause.message})` : '';
      process.stderr.write(`error [${e.code}]: ${e.message}${cause}\n`);
      process.exitCode = EXIT.FAILURE;
      return;
    }
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = EXIT.FAILURE;
  }
}
