import { rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { startGateway } from '../app/main.js';
import { limitHeapGrowth } from './heap-growth.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the gateway (HTTP API, scheduler; SIGHUP or `countersign reload` reloads the config and policy, a policy file change reloads the policy)')
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .option('--listen <host:port>', 'override the listen address')
    .option('--pid-file <file>', 'write the process id here (for `countersign reload --pid-file`); removed on exit')
    .action(async (o: { config: string; listen?: string; pidFile?: string }) => {
      const loaded = loadConfig(o.config);
      limitHeapGrowth(loaded.config.memory.heapGrowthPercent);
      const gw = await startGateway(loaded, o.listen ? { listen: o.listen } : {});
      if (o.pidFile) writeFileSync(o.pidFile, `${process.pid}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          gw.logger.info({ signal }, 'shutting down');
          gw.close().then(resolve, resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      if (o.pidFile) rmSync(o.pidFile, { force: true });
    });
}
