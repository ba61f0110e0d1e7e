import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { approval } from '../client/guard.js';
import { isCountersignError } from '../client/errors.js';
import { CliExit } from './cli-runtime.js';
import type { ServerOptions } from './cli-options.js';
import { clientFrom, withServerOptions } from './cli-options.js';

/** Exit codes of `countersign exec` when the command does not run (sysexits.h values; documented in docs/cli.md). */
export const EXEC_EXIT = {
  /** Denied by policy or by a reviewer. */
  DENIED: 77,
  /** Expired, cancelled, or still pending at --timeout. */
  NOT_DECIDED: 75,
  /** The gateway could not be reached or refused the request. */
  GATEWAY_ERROR: 69,
  /** The command could not be started (not found / not executable). */
  NOT_FOUND: 127,
  CANNOT_EXECUTE: 126,
} as const;

/** A readable command line for policy (`tool.command`) and reviewers; `argv` stays exact. */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function run(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
    const forward = (s: NodeJS.Signals) => child.kill(s);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.once('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(`countersign exec: cannot run ${argv[0]}: ${e.code ?? e.message}\n`);
      resolve(e.code === 'ENOENT' ? EXEC_EXIT.NOT_FOUND : EXEC_EXIT.CANNOT_EXECUTE);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve(code ?? 128 + (signal ? (({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }) as Record<string, number>)[signal] ?? 1 : 1));
    });
  });
}

/** `countersign exec --target NAME -- COMMAND ARGS...`: runs the command only once Countersign approves it. */
export function registerExecCommand(program: Command): void {
  withServerOptions(program.command('exec'))
    .description('submit a command for a decision (decide mode), wait, and run it only if approved; exits with its code')
    .requiredOption('--target <name>', 'a target of kind tool (config `tools`)')
    .option('-m, --justification <text>', 'why the command should run (shown to reviewers)')
    .option('--timeout <seconds>', 'stop waiting for reviewers after this long (default: until decided)')
    .argument('<command...>', 'the command and its arguments, after --')
    .action(async (argv: string[], o: ServerOptions & { target: string; justification?: string; timeout?: string }) => {
      const client = clientFrom(o);
      const input = { tool: 'exec', input: { command: commandLine(argv), argv, cwd: process.cwd() } };
      try {
        const a = await approval(client, input, {
          kind: 'tool',
          target: o.target,
          ...(o.justification ? { justification: o.justification } : {}),
          ...(o.timeout ? { wait: { timeoutSeconds: Number(o.timeout) } } : {}),
        });
        process.stderr.write(`countersign: approved (${a.id}); running ${input.input.command}\n`);
      } catch (e) {
        if (!isCountersignError(e)) throw e;
        const code = e.code === 'DENIED' ? EXEC_EXIT.DENIED : ['EXPIRED', 'CANCELLED', 'PENDING'].includes(e.code) ? EXEC_EXIT.NOT_DECIDED : EXEC_EXIT.GATEWAY_ERROR;
        throw new CliExit(code, `countersign exec: not run: [${e.code}] ${e.message}`);
      }
      process.exitCode = await run(argv);
    });
}
