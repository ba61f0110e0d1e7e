import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staleSources } from './dist-freshness.js';

let root: string;
const write = (path: string, secondsAgo: number) => {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, '');
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(full, t, t);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'countersign-dist-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the stale-dist check', () => {
  it('finds nothing when every source has a newer compiled file, and ignores tests', () => {
    write('src/a/b.ts', 100);
    write('dist/a/b.js', 50);
    write('src/a/b.test.ts', 10);
    expect(staleSources(root)).toEqual([]);
  });

  it('names a source edited after the build, and one never built', () => {
    write('src/x.ts', 10);
    write('dist/x.js', 50);
    write('src/deep/new-file.ts', 10);
    expect(staleSources(root)).toEqual([
      { source: join('src', 'deep', 'new-file.ts'), output: join('dist', 'deep', 'new-file.js'), reason: 'missing' },
      { source: join('src', 'x.ts'), output: join('dist', 'x.js'), reason: 'older' },
    ]);
  });
});
