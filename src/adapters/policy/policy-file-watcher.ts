import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export type ReloadTrigger = 'sighup' | 'file-change';

/**
 * Calls `reload` on SIGHUP and when the policy file changes. Watches the folder,
 * not the file, so that editors that replace the file (write + rename) and
 * ConfigMap symlink swaps are seen. Events are debounced and reloads serialised.
 */
export function watchPolicyFile(opts: {
  file: string;
  /** The text already loaded, so that a file event without a real change reloads nothing. */
  loadedText: string;
  /** Also reload on SIGHUP (default); off when SIGHUP reloads the whole config. */
  sighup?: boolean;
  reload(text: string, trigger: ReloadTrigger): Promise<void>;
  onError(e: unknown): void;
}): () => void {
  let timer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();
  let last = opts.loadedText;
  const run = (trigger: ReloadTrigger) => {
    chain = chain
      .then(async () => {
        const text = await readFile(opts.file, 'utf8');
        // Saves fire several events; reload only on a real change (SIGHUP always reloads).
        if (trigger === 'file-change' && text === last) return;
        last = text;
        await opts.reload(text, trigger);
      })
      .catch(opts.onError);
  };
  const onHup = () => run('sighup');
  if (opts.sighup !== false) process.on('SIGHUP', onHup);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(opts.file), { persistent: false }, (_event, name) => {
      if (name && name !== basename(opts.file) && !name.startsWith('..')) return;
      clearTimeout(timer);
      timer = setTimeout(() => run('file-change'), 100);
    });
    watcher.on('error', opts.onError);
  } catch (e) {
    opts.onError(e);
  }
  return () => {
    process.off('SIGHUP', onHup);
    clearTimeout(timer);
    watcher?.close();
  };
}
