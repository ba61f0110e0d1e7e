import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { exportBundle } from '../adapters/audit/bundle-export.js';
import { signingKeyOf, trustedKeys } from '../app/audit-wiring.js';
import { loadConfigWithoutSecrets } from '../config/load.js';
import type { VerifierKey } from '../domain/signed-note.js';
import { parseVerifierKey } from '../domain/signed-note.js';
import { VERSION } from '../version.js';
import { auditSourceOf } from './audit-source.js';
import { CliExit, EXIT } from './cli-runtime.js';
import { waitForSignedCheckpoint, waitOption } from './wait-signed.js';

/** `audit export`: an evidence bundle for auditors, verifiable with `audit verify --bundle`. */
export function registerAuditExportCommand(audit: Command): void {
  audit
    .command('export')
    .description('write an evidence bundle (entries, checkpoints, proofs, keys, summary, README) for auditors')
    .requiredOption('-c, --config <file>', 'config file (its database is only read)')
    .requiredOption('-o, --out <dir>', 'a new folder for the bundle')
    .option('--since <time>', 'first entry dated at or after this ISO-8601 time')
    .option('--until <time>', 'entries dated before this ISO-8601 time')
    .option('--wait <duration>', 'first wait up to this long (e.g. 30s) for the running gateway to sign a checkpoint covering the newest entries')
    .option('--json', 'print the result as JSON')
    .action(async (o: { config: string; out: string; since?: string; until?: string; wait?: string; json?: boolean }) => {
      const waitMs = waitOption(o.wait);
      for (const [flag, v] of [['--since', o.since], ['--until', o.until]] as const) {
        if (v !== undefined && !Number.isFinite(Date.parse(v))) throw new CliExit(EXIT.USAGE, `${flag}: not an ISO-8601 time: ${v}`);
      }
      const loaded = loadConfigWithoutSecrets(o.config);
      let signer: VerifierKey | undefined;
      let origin = loaded.config.audit.origin;
      try {
        const s = signingKeyOf(loaded, false);
        signer = s.signer.verifier;
        origin ??= s.signer.name;
      } catch {
        // Exported without the private key: the published verifier keys must be in audit.verifierKeys.
      }
      const keys = trustedKeys(loaded, signer);
      if (!keys.length || !origin) throw new CliExit(EXIT.USAGE, "the log's verifier key is unknown: make the signing key readable, or list it in audit.verifierKeys and set audit.origin");
      const witnessKeys = loaded.config.audit.witnesses.flatMap((w) => (w.key ? [parseVerifierKey(w.key)] : []));
      if (waitMs !== undefined) await waitForSignedCheckpoint(o.config, waitMs, (l) => process.stderr.write(`${l}\n`));
      let r;
      const source = await auditSourceOf(loaded);
      try {
        r = exportBundle({ dbPath: source.path, out: resolve(o.out), since: o.since, until: o.until, origin, keys, witnessKeys, version: VERSION, now: new Date() });
      } catch (e) {
        throw new CliExit(EXIT.FAILURE, `export failed: ${(e as Error).message}`);
      } finally {
        source.cleanup();
      }
      const { start, end } = r.manifest.range;
      if (o.json) process.stdout.write(`${JSON.stringify({ out: resolve(o.out), range: r.manifest.range, checkpoints: r.manifest.checkpoints.length, governanceViolations: r.governance.violations, unsigned: r.unsigned })}\n`);
      else {
        process.stdout.write(`wrote ${resolve(o.out)}: entries ${start} to ${end - 1}, ${r.manifest.checkpoints.length} checkpoints, summary.md, README.md\n`);
        if (r.unsigned) process.stdout.write(`${r.unsigned} newer entries are not yet covered by a signed checkpoint and were left out\n`);
        if (r.governance.violations) process.stdout.write(`warning: ${r.governance.violations} governance violations in the range (see summary.md; audit verify --bundle reports them)\n`);
        process.stdout.write(`verify it with: countersign audit verify --bundle ${o.out} --key '${keys[0]!.text}'\n`);
        const newest = r.manifest.checkpoints.at(-1);
        if (newest) process.stdout.write(`keep ${join(o.out, newest)} (a signed checkpoint): later bundles and the log itself, verified with --known-checkpoint, must extend it\n`);
      }
    });
}
