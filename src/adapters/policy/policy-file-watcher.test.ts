import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReloadTrigger } from './policy-file-watcher.js';
import { watchPolicyFile } from './policy-file-watcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(20);
}

describe('the policy file watcher', () => {
  let dir: string;
  let stop: (() => void) | undefined;
  afterEach(() => {
    stop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(text: string) {
    dir = mkdtempSync(join(tmpdir(), 'countersign-watch-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, text);
    const reloads: Array<[string, ReloadTrigger]> = [];
    const errors: unknown[] = [];
    stop = watchPolicyFile({ file, loadedText: text, sighup: false, pollMs: 30, reload: async (t, trigger) => void reloads.push([t, trigger]), onError: (e) => errors.push(e) });
    return { file, reloads, errors };
  }

  it('reloads a changed file, and a file replaced by a rename (as editors and ConfigMaps do)', async () => {
    const w = start('v1');
    writeFileSync(w.file, 'v2');
    await until(() => w.reloads.length === 1);
    expect(w.reloads).toEqual([['v2', 'file-change']]);
    writeFileSync(join(dir, 'policy.yaml.tmp'), 'v3');
    renameSync(join(dir, 'policy.yaml.tmp'), w.file);
    await until(() => w.reloads.length === 2);
    expect(w.reloads[1]).toEqual(['v3', 'file-change']);
  });

  it('reloads nothing for the same text written again, nor for other files changing beside it', async () => {
    const w = start('same');
    writeFileSync(w.file, 'same');
    for (let i = 0; i < 20; i++) {
      writeFileSync(join(dir, 'countersign.db-wal'), `write ${i}`);
      await sleep(10);
    }
    // A real change after them is seen: the watcher was running all along.
    writeFileSync(w.file, 'changed');
    await until(() => w.reloads.length > 0);
    expect(w.reloads).toEqual([['changed', 'file-change']]);
  });

  it('a change made before the watcher took its first look is still reloaded', async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-watch-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, 'edited meanwhile');
    const reloads: string[] = [];
    stop = watchPolicyFile({ file, loadedText: 'as loaded', sighup: false, pollMs: 10_000, reload: async (t) => void reloads.push(t), onError: () => {} });
    await until(() => reloads.length > 0);
    expect(reloads).toEqual(['edited meanwhile']);
  });

  it('stops reloading once stopped', async () => {
    const w = start('v1');
    stop!();
    stop = undefined;
    writeFileSync(w.file, 'v2');
    await sleep(300);
    expect(w.reloads).toEqual([]);
  });
});
