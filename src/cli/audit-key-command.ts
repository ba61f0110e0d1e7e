import type { Command } from 'commander';
import { auditPaths, signingKeyOf } from '../app/audit-wiring.js';
import { loadConfigWithoutSecrets } from '../config/load.js';

/** `audit key --config FILE`: the log's verifier key, to publish to auditors. */
export function registerAuditKeyCommand(audit: Command): void {
  audit
    .command('key')
    .description("print the audit log's verifier key (<name>+<key id>+<key>); creates the signing key if the gateway has not yet")
    .requiredOption('-c, --config <file>', 'config file')
    .option('--json', 'as JSON, with where the key comes from')
    .action((o: { config: string; json?: boolean }) => {
      const loaded = loadConfigWithoutSecrets(o.config);
      const k = signingKeyOf(loaded, true);
      if (k.created) process.stderr.write(`generated a new audit signing key in ${auditPaths(loaded).keyFile}\n`);
      const v = k.signer.verifier;
      if (o.json) {
        const out = { verifierKey: v.text, name: v.name, keyId: Buffer.from(v.keyId).toString('hex'), source: k.source, ...(k.source === 'file' ? { file: auditPaths(loaded).keyFile } : {}) };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else process.stdout.write(`${v.text}\n`);
    });
}
