// `npm run demo`: one command from a fresh clone. Installs dependencies if they are
// missing, builds if the build is missing or older than the sources, then runs the
// demo. Extra arguments go to the demo (npm run demo -- --auto-approve).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const installed = join(root, 'node_modules', '.package-lock.json');
// Also after a pull that added dependencies (the lock file is newer than the install).
if (!existsSync(installed) || statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs) {
  console.log('Installing dependencies…');
  run(npm, ['ci', '--no-audit', '--no-fund']);
}
const entry = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(entry) || statSync(entry).mtimeMs < newest(join(root, 'src'))) {
  console.log('Building…');
  run(npm, ['run', 'build', '--silent']);
}
run(process.execPath, [entry, 'demo', ...process.argv.slice(2)]);
