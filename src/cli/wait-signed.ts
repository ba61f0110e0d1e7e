import { openConfiguredStore } from '../app/store-wiring.js';
import { formatDuration, parseDuration } from '../domain/duration.js';
import { CliExit, EXIT } from './cli-runtime.js';

const POLL_MS = 250;

/** `--wait <duration>`, checked before any work. */
export function waitOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (e) {
    throw new CliExit(EXIT.USAGE, `--wait: ${(e as Error).message}`);
  }
}

/**
 * Waits until a signed checkpoint covers every entry the log holds now, or `waitMs` has
 * passed. For scripts that verify or export right after the gateway wrote (a guide, a CI
 * job): the running gateway signs within audit.checkpoints.maxDelay, and reading the log
 * before that reports its newest entries as not proven. Reads only; never signs: signing
 * stays with the gateway that holds the key and the lease.
 */
export async function waitForSignedCheckpoint(configFile: string, waitMs: number, say: (line: string) => void): Promise<boolean> {
  const store = await openConfiguredStore(configFile, { readOnly: true });
  try {
    const size = await store.auditSize();
    const covered = async () => ((await store.latestCheckpoint())?.size ?? 0) >= size;
    if (size === 0 || (await covered())) return true;
    const started = Date.now();
    say(`waiting up to ${formatDuration(waitMs)} for the gateway to sign a checkpoint covering entries 0 to ${size - 1}...`);
    while (Date.now() - started < waitMs) {
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, waitMs - (Date.now() - started))));
      if (await covered()) {
        say(`signed after ${((Date.now() - started) / 1000).toFixed(1)}s`);
        return true;
      }
    }
    say(`no checkpoint covers entry ${size - 1} after ${formatDuration(waitMs)}: is the gateway running (countersign serve), with audit.checkpoints.enabled?`);
    return false;
  } finally {
    await store.close();
  }
}
