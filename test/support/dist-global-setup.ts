// vitest globalSetup: rebuild dist/ before the run when it is older than src/, so that
// `npx vitest run` on its own never tests a stale gateway. COUNTERSIGN_TEST_NO_REBUILD=1
// fails with the list instead (for those who want to build themselves).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { staleSources } from './dist-freshness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export default function setup(): void {
  const stale = staleSources(root);
  if (stale.length === 0) return;
  const sample = stale
    .slice(0, 5)
    .map((s) => `  ${s.source} (${s.reason === 'missing' ? `no ${s.output}` : `newer than ${s.output}`})`)
    .join('\n');
  const what = `dist/ is older than src/ for ${stale.length} file(s); the end-to-end tests run dist/:\n${sample}`;
  if (process.env.COUNTERSIGN_TEST_NO_REBUILD === '1') throw new Error(`${what}\nRun \`npm run build\` first.`);
  process.stderr.write(`${what}\nRebuilding (npm run build)...\n`);
  const tsc = spawnSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`${what}\nThe rebuild failed, so the tests would run stale code:\n${tsc.stdout}${tsc.stderr}`);
  const still = staleSources(root);
  if (still.length) throw new Error(`dist/ is still older than src/ after the rebuild: ${still.map((s) => s.source).join(', ')}`);
}
