import type { Command } from 'commander';

// Placeholder until the policy commands land (policy check / test / explain).
export function registerPolicyCommands(_program: Command): void {}
