import { unwatchFile, watchFile } from 'node:fs';
import type { Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';

export type ReloadTrigger = 'sighup' | 'file-change';

/** How often the policy file's metadata is read (one stat), by default. */
export const POLICY_POLL_MS = 1000;

/**
 * Calls `reload` on SIGHUP and when the policy file changes. The path is polled (one
 * stat a second, following symlinks), so that editors that replace the file (write +
 * rename) and ConfigMap symlink swaps are seen. It used to watch the folder (inotify),
 * which woke the gateway for every change to any file in it: with the database beside
 * the policy (the demo's layout), every commit's WAL write, ten wake-ups per MCP call.
 * A change is read after a short pause (a writer may not be done); reloads are serialised.
 */
export function watchPolicyFile(opts: {
  file: string;
  /** The text already loaded, so that a file event without a real change reloads nothing. */
  loadedText: string;
  /** Also reload on SIGHUP (default); off when SIGHUP reloads the whole config. */
  sighup?: boolean;
  /** Poll interval (POLICY_POLL_MS by default). */
  pollMs?: number;
  reload(text: string, trigger: ReloadTrigger): Promise<void>;
  onError(e: unknown): void;
}): () => void {
  let timer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();
  let last = opts.loadedText;
  let stopped = false;
  const run = (trigger: ReloadTrigger) => {
    chain = chain
      .then(async () => {
        const text = await readFile(opts.file, 'utf8');
        if (stopped) return;
        // Saves fire several events; reload only on a real change (SIGHUP always reloads).
        if (trigger === 'file-change' && text === last) return;
        last = text;
        await opts.reload(text, trigger);
      })
      .catch(opts.onError);
  };
  const onHup = () => run('sighup');
  if (opts.sighup !== false) process.on('SIGHUP', onHup);
  // Called by Node only when the stat changed (size, times, inode...), including the file vanishing or coming back.
  const onStat = (curr: Stats, prev: Stats) => {
    if (curr.mtimeMs === prev.mtimeMs && curr.ino === prev.ino && curr.size === prev.size) return;
    clearTimeout(timer);
    timer = setTimeout(() => run('file-change'), 100);
  };
  watchFile(opts.file, { persistent: false, interval: opts.pollMs ?? POLICY_POLL_MS }, onStat);
  // A change between the caller's read and the first stat would otherwise wait for the next one.
  run('file-change');
  return () => {
    stopped = true;
    process.off('SIGHUP', onHup);
    clearTimeout(timer);
    unwatchFile(opts.file, onStat);
  };
}
