// vitest globalSetup: one evidence folder per run (test/support/canaries.ts), scanned at
// the end for every canary the tests registered. A run that registered canaries but kept
// no evidence fails too: a scan of nothing proves nothing.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanForCanaries } from '../../campaigns/lib/canaries.mjs';
import { EVIDENCE_ENV } from './canaries.js';

/** vitest reports an error thrown at teardown but still exits 0: set the exit code too. */
function fail(message: string): never {
  process.exitCode = 1;
  throw new Error(message);
}

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-canary-evidence-'));
  process.env[EVIDENCE_ENV] = dir;
  return () => {
    const canaries = readdirSync(dir)
      .filter((f) => /^canaries-\d+\.txt$/.test(f))
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
      .map((line) => {
        const [value = '', label = ''] = line.split('\t');
        return { value, label };
      });
    // Unit-test-only runs register no canary and start no gateway: nothing to scan.
    if (canaries.length === 0) {
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const r = scanForCanaries({ paths: [join(dir, 'kept')], canaries });
    if (r.scannedFiles === 0 || r.scannedBytes === 0) {
      fail(`canary scan: ${canaries.length} canaries were registered but no evidence was kept in ${dir}/kept: the scan would prove nothing`);
    }
    if (r.found.length) {
      const lines = r.found.slice(0, 20).map((f) => `  ${f.file}:${f.line} (byte ${f.offset}, ${f.form}) ${f.canary}: ${f.context}`);
      fail(`canary scan: ${r.found.length} canary secret(s) found in what the gateway produced (evidence kept in ${dir}):\n${lines.join('\n')}`);
    }
    process.stderr.write(`canary scan: ${canaries.length} canaries, ${r.scannedFiles} files, ${r.scannedBytes} bytes: none found\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
