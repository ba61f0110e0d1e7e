// Canary secrets for tests: every token, credential and webhook secret a test gives the
// gateway is a unique canary value, and what the gateway produced is kept as evidence
// (store files with the audit log, bundles, logs, recorded responses, payloads the
// fakes received). After the run, canary-global-setup.ts scans the evidence and fails
// the run naming the file and place of any canary found.
import { appendFileSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { newCanary } from '../../campaigns/lib/canaries.mjs';

/** Set by canary-global-setup.ts for the whole run; unset (nothing kept) when a test runs without it. */
export const EVIDENCE_ENV = 'COUNTERSIGN_CANARY_EVIDENCE';

function evidenceDir(): string | undefined {
  const dir = process.env[EVIDENCE_ENV];
  if (!dir) return undefined;
  mkdirSync(join(dir, 'kept'), { recursive: true });
  return dir;
}

/** A unique canary value, registered for the scan at the end of the run. */
export function canary(what: string): string {
  const value = newCanary();
  const dir = evidenceDir();
  if (dir) appendFileSync(join(dir, `canaries-${process.pid}.txt`), `${value}\t${what}\n`);
  return value;
}

let counter = 0;
const label = (what: string) => `${process.pid}-${++counter}-${what.replace(/[^A-Za-z0-9._-]/g, '_')}`;

/** Keeps a copy of a directory or file the gateway wrote (its workspace: store, bundles, keys). */
export function keepFiles(path: string): void {
  const dir = evidenceDir();
  if (!dir || !existsSync(path)) return;
  cpSync(path, join(dir, 'kept', label(basename(path))), { recursive: true });
}

/** Keeps text the gateway produced or the fakes received (logs, responses, payloads). */
export function keepText(what: string, text: string): void {
  const dir = evidenceDir();
  if (!dir) return;
  writeFileSync(join(dir, 'kept', `${label(what)}.txt`), text);
}

/** Appends one recorded response (the tests' HTTP answers) to this worker's file. */
export function keepResponse(text: string): void {
  const dir = evidenceDir();
  if (dir) appendFileSync(join(dir, 'kept', `responses-${process.pid}.txt`), `${text}\n`);
}
