import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { startGateway } from '../app/main.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the gateway (HTTP API, scheduler, policy reload on SIGHUP and file change)')
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .option('--listen <host:port>', 'override the listen address')
    .action(async (o: { config: string; listen?: string }) => {
      const gw = await startGateway(loadConfig(o.config), o.listen ? { listen: o.listen } : {});
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          gw.logger.info({ signal }, 'shutting down');
          gw.close().then(resolve, resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
