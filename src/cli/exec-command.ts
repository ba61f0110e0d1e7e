import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { approval } from '../client/guard.js';
import { isCountersignError } from '../client/errors.js';
import { CliExit } from './cli-runtime.js';
import type { ServerOptions } from './cli-options.js';
import { clientFrom, withServerOptions } from './cli-options.js';
import { execOnTarget, readFiles } from './exec-target.js';

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

/**
 * Whether the target runs commands itself (kind command), asked with a submission that
 * can never pass input checks (an empty argv): a command target refuses it as bad
 * input, any other kind as a kind mismatch. Nothing is recorded either way.
 */
async function isCommandTarget(client: ReturnType<typeof clientFrom>, target: string): Promise<boolean> {
  try {
    await client.submit({ kind: 'command', target, input: { argv: [] } });
    return true;
  } catch (e) {
    if (isCountersignError(e) && e.code === 'KIND_MISMATCH') return false;
    if (isCountersignError(e) && e.code === 'COMMAND_INVALID_ARGV') return true;
    if (isCountersignError(e)) throw new CliExit(EXEC_EXIT.GATEWAY_ERROR, `countersign exec: not run: [${e.code}] ${e.message}`);
    throw e;
  }
}

/** `countersign exec --target NAME -- COMMAND ARGS...`: runs the command only once Countersign approves it. */
export function registerExecCommand(program: Command): void {
  withServerOptions(program.command('exec'))
    .description('on a command target: the gateway (or its runner) runs the command once allowed or approved, and its output and exit code are passed on; on a tool target: submit it for a decision, wait, and run it here only if approved; exits with its code')
    .requiredOption('--target <name>', 'a target of kind command (run there, with its credentials) or tool (run here)')
    .option('--stdin', 'command targets: send this process\'s stdin to the command')
    .option('--file <name=path...>', 'command targets: send a file, written under NAME in the run\'s directory')
    .option('-m, --justification <text>', 'why the command should run (shown to reviewers)')
    .option('--timeout <seconds>', 'stop waiting for reviewers after this long (default: until decided)')
    .argument('<command...>', 'the command and its arguments, after --')
    .action(async (argv: string[], o: ServerOptions & { target: string; justification?: string; timeout?: string; stdin?: boolean; file?: string[] }) => {
      const client = clientFrom(o);
      if (await isCommandTarget(client, o.target)) {
        process.exitCode = await execOnTarget(client, {
          target: o.target,
          argv,
          stdin: o.stdin ? readFileSync(0, 'utf8') : undefined,
          files: readFiles(o.file ?? []),
          justification: o.justification,
          timeoutSeconds: o.timeout ? Number(o.timeout) : undefined,
        });
        return;
      }
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
