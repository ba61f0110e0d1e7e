#!/usr/bin/env node
import { Command } from 'commander';
import { registerPolicyCommands } from './policy-commands.js';
import { runCli } from './cli-runtime.js';

// Wiring only: each command group lives in its own file.
const program = new Command()
  .name('countersign')
  .description('An action-level approval gateway for AI agents')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: true });

registerPolicyCommands(program);

await runCli(program, process.argv);
