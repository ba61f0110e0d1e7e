import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';

export type ReloadTrigger = 'sighup' | 'file-change';

/** How often the policy file's metadata is read (one stat), by default. */
export const POLICY_POLL_MS = 1000;
const SETTLE_MS = 2500;

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
  let settle: NodeJS.Timeout | undefined;
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
  // Node calls this only when the stat changed (size, modification or change time, inode...), including
  // the file vanishing or coming back; the text comparison drops changes that changed nothing. A file
  // written twice within one tick of a coarse clock (1-2 s on some file systems) keeps its stat: the
  // text is read once more a little later, which catches the second write.
  const onStat = () => {
    clearTimeout(timer);
    clearTimeout(settle);
    timer = setTimeout(() => run('file-change'), 100);
    settle = setTimeout(() => run('file-change'), SETTLE_MS);
  };
  watchFile(opts.file, { persistent: false, interval: opts.pollMs ?? POLICY_POLL_MS }, onStat);
  // A change between the caller's read and the first stat would otherwise wait for the next one.
  run('file-change');
  return () => {
    stopped = true;
    process.off('SIGHUP', onHup);
    clearTimeout(timer);
    clearTimeout(settle);
    unwatchFile(opts.file, onStat);
  };
}
