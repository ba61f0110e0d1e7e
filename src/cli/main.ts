#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { runCli } from './cli-runtime.js';

// Wiring only: each command group lives in its own file.
const program = new Command()
  .name('countersign')
  .description('An action-level approval gateway for AI agents')
  .version(VERSION)
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: true });

/**
 * The long-running commands load only their own module: the other groups import the
 * PostgreSQL store and driver, the runner's HTTP client, the demo's database, which would
 * otherwise stay in a gateway's memory for its whole life (docs/production.md, memory).
 */
const LONG_RUNNING = new Map<string, () => Promise<(p: Command) => void>>([
  ['serve', async () => (await import('./serve-command.js')).registerServeCommand],
  ['mcp', async () => (await import('./mcp-command.js')).registerMcpCommand],
  ['runner', async () => (await import('./runner-commands.js')).registerRunnerCommands],
]);

const only = LONG_RUNNING.get(process.argv[2] ?? '');
if (only) (await only())(program);
else (await import('./command-groups.js')).registerAllCommands(program);

await runCli(program, process.argv);
