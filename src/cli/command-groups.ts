import type { Command } from 'commander';
import { registerAuditCommands } from './audit-commands.js';
import { registerDeliveriesCommands } from './deliveries-commands.js';
import { registerGrantsCommands } from './grants-commands.js';
import { registerDemoCommand } from './demo-command.js';
import { registerExecCommand } from './exec-command.js';
import { registerHookCommands } from './hook-command.js';
import { registerMcpCommand, registerMcpTrustCommand } from './mcp-command.js';
import { registerPolicyCommands } from './policy-commands.js';
import { registerPolicyReplay } from './policy-replay-command.js';
import { registerReviewCommands } from './review-commands.js';
import { registerServeCommand } from './serve-command.js';
import { registerReloadCommand } from './reload-command.js';
import { registerSessionsCommands } from './sessions-commands.js';
import { registerTokenCommands } from './token-commands.js';
import { registerMigrateCommand, registerStoreCommands } from './store-commands.js';
import { registerRunnerCommands } from './runner-commands.js';

/** Every command group (each lives in its own file). */
export function registerAllCommands(program: Command): void {
  registerServeCommand(program);
  registerDemoCommand(program);
  registerReviewCommands(program);
  registerPolicyCommands(program);
  registerPolicyReplay(program);
  registerAuditCommands(program);
  registerMcpCommand(program);
  registerMcpTrustCommand(program);
  registerHookCommands(program);
  registerExecCommand(program);
  registerDeliveriesCommands(program);
  registerSessionsCommands(program);
  registerGrantsCommands(program);
  registerTokenCommands(program);
  registerReloadCommand(program);
  registerMigrateCommand(program);
  registerStoreCommands(program);
  registerRunnerCommands(program);
}
