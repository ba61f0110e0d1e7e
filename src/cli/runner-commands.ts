import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createRedactor } from '../domain/redact-secrets.js';
import { safeLine } from '../domain/visible-text.js';
import { createLogger } from '../logger.js';
import { startRunner } from '../runner/runner-client.js';
import { runnerTlsAgent } from '../runner/runner-tls-client.js';
import type { RunnerView } from '../runner/runner-hub.js';
import { CliExit, EXIT } from './cli-runtime.js';
import type { ServerOptions } from './cli-options.js';
import { withServerOptions } from './cli-options.js';

/** `countersign runner` (run one, inside a target's network) and `countersign runners` (list them). */
export function registerRunnerCommands(program: Command): void {
  program
    .command('runner')
    .description('run the command targets of a config for a gateway: connects out to it (no inbound port), runs only the approved actions it sends, with the credentials of this config')
    .requiredOption('--gateway <url>', 'the gateway\'s URL')
    .requiredOption('-c, --config <file>', 'config file whose command targets this runner serves (their env holds the credentials)')
    .option('--token <token>', 'this runner\'s token (env COUNTERSIGN_RUNNER_TOKEN; prefer the environment: flags show in ps)')
    .option('--cert <file>', 'PEM client certificate for mutual TLS with the gateway\'s runner listener (runners.tls)')
    .option('--key <file>', 'PEM private key of --cert')
    .option('--ca <file>', 'PEM CA bundle that signs the gateway\'s certificate (default: the system\'s CAs)')
    .action(async (o: { gateway: string; config: string; token?: string; cert?: string; key?: string; ca?: string }) => {
      const token = o.token ?? process.env.COUNTERSIGN_RUNNER_TOKEN;
      if (!token && !o.cert) throw new CliExit(EXIT.USAGE, 'no credentials: set COUNTERSIGN_RUNNER_TOKEN (or --token), or pass --cert and --key');
      if ((o.cert === undefined) !== (o.key === undefined)) throw new CliExit(EXIT.USAGE, '--cert and --key go together');
      const loaded = loadConfig(o.config);
      const redactor = createRedactor(loaded.secrets, { window: loaded.config.redaction.window, credentials: loaded.credentials });
      const logger = createLogger(loaded.config.log.level, undefined, redactor);
      const dispatcher = o.cert || o.ca ? runnerTlsAgent({ cert: o.cert, key: o.key, ca: o.ca }) : undefined;
      const runner = startRunner({ gateway: o.gateway, token, dispatcher, loaded, redactor, logger });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'runner stopping');
          runner.stop().then(resolve, resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });

  withServerOptions(program.command('runners'))
    .description('list the gateway\'s runners: configured, connected, from where, serving what, last seen')
    .option('--json', 'print JSON')
    .action(async (o: ServerOptions & { json?: boolean }) => {
      const url = (o.url ?? process.env.COUNTERSIGN_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
      const token = o.token ?? process.env.COUNTERSIGN_TOKEN;
      if (!token) throw new CliExit(EXIT.USAGE, 'no token: set COUNTERSIGN_TOKEN or pass --token');
      const res = await fetch(`${url}/v1/runners`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { runners?: RunnerView[]; error?: { code: string; message: string } };
      if (!res.ok || !body.runners) throw new CliExit(EXIT.FAILURE, `countersign runners: [${body.error?.code ?? res.status}] ${body.error?.message ?? ''}`);
      if (o.json) {
        process.stdout.write(`${JSON.stringify(body.runners, null, 2)}\n`);
        return;
      }
      for (const r of body.runners) {
        const state = r.sessions.length ? `connected (${r.sessions.length})` : 'not connected';
        process.stdout.write(`${safeLine(`${r.id.padEnd(20)} ${state.padEnd(16)} last seen ${r.lastSeen ?? 'never'}${r.configured ? '' : ' (not in the config)'}`)}\n`);
        for (const s of r.sessions) {
          process.stdout.write(`${safeLine(`  ${s.host} ${s.instance.slice(0, 8)} since ${s.connectedAt}, running ${s.running}, serves ${s.targets.join(', ') || '(nothing)'}`)}\n`);
        }
      }
    });
}
