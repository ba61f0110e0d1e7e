// Whether dist/ was built from the current src/: end-to-end tests run the compiled
// gateway (dist/cli/main.js), so a stale build would test old code without a word.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface StaleSource {
  source: string;
  /** The compiled file it should have produced, relative to the root. */
  output: string;
  reason: 'missing' | 'older';
}

function sourcesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourcesUnder(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function mtimeMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Every source file (tests excluded, as in tsconfig.build.json) whose compiled file is missing or older than it. */
export function staleSources(root: string, srcDir = 'src', outDir = 'dist'): StaleSource[] {
  const stale: StaleSource[] = [];
  for (const path of sourcesUnder(join(root, srcDir))) {
    const rel = relative(join(root, srcDir), path);
    const output = join(outDir, rel.replace(/\.ts$/, '.js'));
    const built = mtimeMs(join(root, output));
    const source = relative(root, path);
    if (built === undefined) stale.push({ source, output, reason: 'missing' });
    else if (built < statSync(path).mtimeMs) stale.push({ source, output, reason: 'older' });
  }
  return stale.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
}
