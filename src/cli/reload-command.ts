import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import type { Store } from '../ports/store.js';
import { CliExit, EXIT } from './cli-runtime.js';

function pidOf(o: { pid?: string; pidFile?: string }): number {
  const text = o.pid ?? (o.pidFile ? readPidFile(o.pidFile) : undefined);
  if (text === undefined) throw new CliExit(EXIT.USAGE, 'give --pid PID or --pid-file FILE (serve --pid-file writes it; under systemd: systemctl reload countersign)');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new CliExit(EXIT.USAGE, `not a process id: ${JSON.stringify(text.trim())}`);
  return pid;
}

function readPidFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliExit(EXIT.USAGE, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/**
 * The database a config names, read without validating the rest: the new config may be
 * the invalid one whose refusal we are about to wait for.
 */
function storeOf(config: string): Store {
  let doc: unknown;
  try {
    doc = parse(readFileSync(config, 'utf8'));
  } catch (e) {
    throw new CliExit(EXIT.USAGE, `cannot read ${config}: ${(e as Error).message}`);
  }
  const named = (doc as { store?: { sqlite?: unknown } } | null)?.store?.sqlite;
  const path = typeof named === 'string' ? named : './data/countersign.db';
  return createSqliteStore({ path: isAbsolute(path) ? path : resolve(dirname(config), path), readOnly: true });
}

/** The outcome the gateway recorded for the reload: the first config entry after `from`. */
async function outcomeAfter(store: Store, from: number, deadline: number): Promise<{ type: string; data: Record<string, unknown> } | undefined> {
  let next = from;
  while (Date.now() < deadline) {
    const size = await store.auditSize();
    for (const e of await store.readAudit(next, size)) if (e.type === 'config.loaded' || e.type === 'config.rejected') return e;
    next = size;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

/** `countersign reload`: SIGHUP to a running `serve`, and, with --config, the outcome it recorded. */
export function registerReloadCommand(program: Command): void {
  program
    .command('reload')
    .description('reload a running gateway\'s config and policy (SIGHUP); with --config, wait for the outcome in the audit log')
    .option('--pid <pid>', 'the gateway\'s process id')
    .option('--pid-file <file>', 'a file holding it (serve --pid-file)')
    .option('-c, --config <file>', 'the gateway\'s config: read its audit log for the outcome (exit 1 if refused)')
    .option('--wait <seconds>', 'how long to wait for the outcome', '10')
    .action(async (o: { pid?: string; pidFile?: string; config?: string; wait: string }) => {
      const pid = pidOf(o);
      const store = o.config ? storeOf(o.config) : undefined;
      try {
        const from = store ? await store.auditSize() : 0;
        try {
          process.kill(pid, 'SIGHUP');
        } catch (e) {
          throw new CliExit(EXIT.FAILURE, `cannot signal process ${pid}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        }
        if (!store) return void process.stdout.write(`sent SIGHUP to ${pid}; the outcome is in the audit log (config.loaded or config.rejected)\n`);
        const e = await outcomeAfter(store, from, Date.now() + Number(o.wait) * 1000);
        if (!e) throw new CliExit(EXIT.FAILURE, `no reload recorded within ${o.wait}s: is ${pid} the gateway of ${o.config}?`);
        if (e.type === 'config.rejected') {
          throw new CliExit(EXIT.FAILURE, `reload refused; the running config is kept:\n${(e.data.errors as string[]).map((x) => `  ${x}`).join('\n')}`);
        }
        const changed = e.data.changed as string[];
        process.stdout.write(`reloaded: ${changed.length ? changed.join(', ') : 'no config change'} (policy reloaded too)\n`);
      } finally {
        await store?.close();
      }
    });
}
