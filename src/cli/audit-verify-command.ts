import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { KnownCheckpointError, openKnownCheckpoint } from '../adapters/audit/known-checkpoint.js';
import type { PlanKeys } from '../adapters/audit/verify-plans.js';
import { planFromBundle, planFromDatabase, readKeysFile } from '../adapters/audit/verify-plans.js';
import type { VerifyPlan, VerifyReport } from '../adapters/audit/verifier.js';
import { VERIFY_EXIT, verifyAuditLog } from '../adapters/audit/verifier.js';
import { auditPaths, signingKeyOf, trustedKeys } from '../app/audit-wiring.js';
import { loadConfigWithoutSecrets } from '../config/load.js';
import type { Receipt } from '../domain/receipt.js';
import { verifyReceipt } from '../domain/receipt.js';
import type { VerifierKey } from '../domain/signed-note.js';
import { parseVerifierKey } from '../domain/signed-note.js';
import { auditSourceOf } from './audit-source.js';
import { CliExit, EXIT } from './cli-runtime.js';
import { waitForSignedCheckpoint, waitOption } from './wait-signed.js';
import { formatFinding, formatVerifyReport, progressBar } from './audit-verify-format.js';

interface VerifyOptions {
  config?: string;
  db?: string;
  bundle?: string;
  receipt?: string;
  key: string[];
  witness: string[];
  witnessKey: string[];
  origin?: string;
  json?: boolean;
  progress: boolean;
  threads?: boolean;
  integrityOnly?: boolean;
  knownCheckpoint: string[];
  trustBundleKey?: boolean;
  wait?: string;
}

const collect = (v: string, all: string[]) => [...all, v];

/** A verifier key, or a file of them (one per line). */
function keysOf(args: readonly string[], what: string): VerifierKey[] {
  return args.flatMap((a) => {
    try {
      return [parseVerifierKey(a)];
    } catch (e) {
      try {
        return readKeysFile(a);
      } catch {
        throw new CliExit(EXIT.USAGE, `${what} ${a}: not a verifier key (<name>+<key id>+<key>) nor a file of them: ${(e as Error).message}`);
      }
    }
  });
}

/** Keys, witnesses and origin: from the config when given, plus the flags. */
function planKeys(o: VerifyOptions): PlanKeys & { notes: string[] } {
  const notes: string[] = [];
  const k: PlanKeys & { notes: string[] } = { keys: keysOf(o.key, '--key'), witnessKeys: keysOf(o.witnessKey, '--witness-key'), witnessDirs: [...o.witness], origin: o.origin, notes };
  if (o.config) {
    const loaded = loadConfigWithoutSecrets(o.config);
    let signer: VerifierKey | undefined;
    try {
      const s = signingKeyOf(loaded, false);
      signer = s.signer.verifier;
      k.origin ??= s.signer.name;
    } catch (e) {
      notes.push(`the signing key is not readable here (${(e as Error).message}); trusting audit.verifierKeys and --key only`);
    }
    k.keys.push(...trustedKeys(loaded, signer).filter((x) => !k.keys.some((y) => y.text === x.text)));
    k.origin ??= loaded.config.audit.origin;
    const { abs } = auditPaths(loaded);
    for (const w of loaded.config.audit.witnesses) {
      if (w.directory !== undefined) k.witnessDirs.push(abs(w.directory));
      if (w.key) k.witnessKeys.push(parseVerifierKey(w.key));
    }
  }
  k.origin ??= k.keys[0]?.name;
  return k;
}

function verifyReceiptFile(file: string, keys: VerifierKey[], json: boolean): number {
  const receipt = JSON.parse(readFileSync(file, 'utf8')) as Receipt;
  if (receipt.format !== 'countersign-receipt/v1') throw new CliExit(EXIT.USAGE, `${file} is not a Countersign receipt`);
  const r = verifyReceipt(receipt, keys);
  const code = r.findings.length ? VERIFY_EXIT.tampered : VERIFY_EXIT.verified;
  if (json) process.stdout.write(`${JSON.stringify({ result: code ? 'tampered' : 'verified', exitCode: code, actionId: receipt.actionId, verified: r.verified, pending: receipt.pending, checkpoint: r.checkpoint ? { size: r.checkpoint.size, root: Buffer.from(r.checkpoint.root).toString('base64') } : null, findings: r.findings })}\n`);
  else {
    process.stdout.write(`Receipt of ${receipt.actionId}: ${r.verified} entries proven in the log signed at ${r.checkpoint?.size ?? '?'} entries${receipt.pending.length ? `; ${receipt.pending.length} not yet covered (${receipt.pending.join(', ')})` : ''}\n`);
    for (const f of r.findings) process.stdout.write(`${formatFinding(f)}\n`);
    if (code) process.stdout.write(`TAMPERING DETECTED (exit ${code})\n`);
    else {
      // VERIFIED names what the signature proves; pending entries are only numbers, not proven.
      if (r.verified || !receipt.pending.length) process.stdout.write(`VERIFIED: ${r.verified} entries of ${receipt.actionId}\n`);
      if (receipt.pending.length) process.stdout.write(`NOT VERIFIED: entries ${receipt.pending.join(', ')} are not covered by a signed checkpoint yet: fetch the receipt again\n`);
    }
  }
  return code;
}

export function registerAuditVerifyCommand(audit: Command): void {
  audit
    .command('verify')
    .description('verify the audit log offline: entries, tree, signed checkpoints, witnesses, governance')
    .option('-c, --config <file>', 'config file: its database, keys and witness folders')
    .option('--db <path>', 'a database file (with --key)')
    .option('--bundle <dir>', 'an evidence bundle written by `audit export`')
    .option('--receipt <file>', "an action's receipt (GET /v1/actions/{id}/receipt)")
    .option('--key <vkey>', "trusted verifier key of the log, or a file of them (repeatable)", collect, [])
    .option('--witness <dir>', 'a witness folder of checkpoint copies to compare with (repeatable)', collect, [])
    .option('--witness-key <vkey>', "a witness's cosignature key (repeatable)", collect, [])
    .option('--trust-bundle-key', "with --bundle and no --key: trust the verifier key shipped inside the bundle (anyone who can rewrite the bundle can replace it)")
    .option('--origin <name>', "the log's origin (default: the key's name)")
    .option('--json', 'the report as JSON')
    .option('--no-progress', 'no progress bar')
    .option('--threads', 'use two threads whatever the size (default: on long logs): a worker checks integrity while this thread checks governance; with --integrity-only each checks half of a database')
    .option('--no-threads', 'check integrity and governance in one thread')
    .option('--integrity-only', 'skip the governance checks (faster; for frequent scheduled checks)')
    .option('--wait <duration>', 'with --config: first wait up to this long (e.g. 30s) for the running gateway to sign a checkpoint covering the newest entries')
    .option('--known-checkpoint <file>', 'a signed checkpoint kept from before (as GET /v1/audit/checkpoint serves it, or a receipt): the log must agree with it and reach its size (repeatable)', collect, [])
    .addHelpText(
      'after',
      `\nVERIFIED covers only the entries a signed checkpoint proves; a bundle fails on any entry none proves.\nExit codes: 0 verified; 3 tampering (entries, tree, signatures, witnesses or a known checkpoint disagree,\nor a bundle holds unsigned entries); 4 governance violation (intact log, a rule broken); 1 could not run; 2 usage.`,
    )
    .action(async (o: VerifyOptions) => {
      const sources = [o.config && !o.receipt ? 'config' : '', o.db, o.bundle, o.receipt].filter(Boolean);
      if (sources.length !== 1) throw new CliExit(EXIT.USAGE, 'give one of --config FILE, --db PATH, --bundle DIR or --receipt FILE');
      const waitMs = waitOption(o.wait);
      if (waitMs !== undefined && sources[0] !== 'config') throw new CliExit(EXIT.USAGE, '--wait applies to --config (a log a gateway is signing), not to --db, --bundle or --receipt');
      const k = planKeys(o);
      if (waitMs !== undefined) await waitForSignedCheckpoint(o.config!, waitMs, (l) => process.stderr.write(`${l}\n`));
      if (o.receipt && o.knownCheckpoint.length) throw new CliExit(EXIT.USAGE, '--known-checkpoint applies to a log or a bundle (--config, --db, --bundle), not to a receipt');
      if (o.receipt) {
        if (!k.keys.length) throw new CliExit(EXIT.USAGE, "give the log's verifier key: --key <name>+<key id>+<key> (or --config)");
        process.exitCode = verifyReceiptFile(o.receipt, k.keys, !!o.json);
        return;
      }
      let plan: VerifyPlan;
      let source: string;
      let cleanup = () => {};
      const keysFromBundle = !!o.bundle && !k.keys.length;
      // A re-signed bundle carries its forger's key: trusting it must be asked for, never the silent default.
      if (keysFromBundle && !o.trustBundleKey) {
        throw new CliExit(EXIT.USAGE, "give the log's published verifier key: --key <name>+<key id>+<key> (or, knowingly, --trust-bundle-key to trust the key inside the bundle)");
      }
      try {
        if (o.bundle) {
          const b = planFromBundle(o.bundle, k);
          plan = b.plan;
          source = `bundle ${o.bundle}`;
          if (keysFromBundle) k.notes.push(`trusting the key shipped in the bundle (${b.bundleKeys.map((x) => x.text).join(', ')}): compare it with the operator's published key, or pass --key`);
        } else {
          if (!k.keys.length) throw new CliExit(EXIT.USAGE, "give the log's verifier key: --key <name>+<key id>+<key> (or --config)");
          const from = o.db ? { path: o.db, label: o.db, cleanup: () => undefined } : await auditSourceOf(loadConfigWithoutSecrets(o.config!));
          cleanup = from.cleanup;
          plan = planFromDatabase(from.path, k);
          source = from.label;
        }
      } catch (e) {
        cleanup();
        if (e instanceof CliExit) throw e;
        throw new CliExit(EXIT.FAILURE, `cannot read the audit log: ${(e as Error).message}`);
      }
      try {
        plan.known = o.knownCheckpoint.map((f) => openKnownCheckpoint(f, { keys: plan.keys, origin: plan.origin, start: plan.start, keysFromBundle }));
      } catch (e) {
        cleanup();
        if (e instanceof KnownCheckpointError) throw new CliExit(EXIT.USAGE, `error [${e.code}]: ${e.message}`);
        throw e;
      }
      const bar = o.progress && !o.json && process.stderr.isTTY ? progressBar(process.stderr, 'verifying') : undefined;
      let report: VerifyReport;
      try {
        report = await verifyAuditLog(plan, { threads: o.threads ?? 'auto', governance: !o.integrityOnly, ...(bar ? { progress: bar.update } : {}) });
      } catch (e) {
        throw new CliExit(EXIT.FAILURE, `verification could not run: ${(e as Error).message}`);
      } finally {
        bar?.done();
        cleanup();
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ source, notes: k.notes, ...report })}\n`);
      else process.stdout.write(`${formatVerifyReport(report, source, k.notes)}\n`);
      process.exitCode = report.exitCode;
    });
}
