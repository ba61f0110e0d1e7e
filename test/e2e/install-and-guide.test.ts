import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget } from './harness.js';

/*
 * The package as a user gets it: `npm pack` (with the dist/ that `npm test` just built),
 * laid out as `npm install -g` lays out a global package (lib/node_modules/countersign and
 * a bin/countersign link), and as `npm install` does in an agent's project. Its
 * dependencies are this checkout's (the same lockfile versions): a real registry install
 * takes minutes on CI machines, so .ci/run does that one (scripts/package-smoke.sh).
 * Then docs/getting-started.md's commands run in order, through the installed binary.
 */
const ROOT = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'countersign-install-'));
const prefix = join(tmp, 'prefix');
const pkgDir = join(prefix, 'lib', 'node_modules', 'countersign');
let tarball = '';
let files: string[] = [];

beforeAll(() => {
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8' });
  const [info] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(tmp, info!.filename);
  files = info!.files.map((f) => f.path);
  mkdirSync(join(prefix, 'lib', 'node_modules'), { recursive: true });
  mkdirSync(join(prefix, 'bin'));
  execFileSync('tar', ['-xzf', tarball, '-C', tmp]);
  renameSync(join(tmp, 'package'), pkgDir);
  symlinkSync(join(ROOT, 'node_modules'), join(pkgDir, 'node_modules'));
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  // As npm does for a package's bins: a link on the PATH, the target made executable.
  chmodSync(join(pkgDir, pkg.bin.countersign!), 0o755);
  symlinkSync(join(pkgDir, pkg.bin.countersign!), join(prefix, 'bin', 'countersign'));
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const env = () => ({ ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`, NPM_CONFIG_PREFIX: prefix, npm_config_prefix: prefix });

describe('the package', () => {
  it('holds the binary, the SDK with its types, the docs, the examples and deploy/, and no tests or sources', () => {
    for (const f of ['dist/cli/main.js', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/client/ai.d.ts', 'dist/client/openai-agents.d.ts', 'dist/client/langchain.d.ts', 'README.md', 'docs/getting-started.md', 'examples/policy.yaml', 'examples/getting-started/countersign.yaml', 'deploy/countersign.service', 'deploy/prometheus-alerts.yaml']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /\.test\.|^src\/|^test\/|\.map$/.test(f))).toEqual([]);
  });

  it('installed, `countersign` on the PATH runs: version, help of serve, hook claude-code and mcp', () => {
    const run = (...args: string[]) => execFileSync('countersign', args, { env: env(), encoding: 'utf8' });
    expect(run('--version').trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    for (const cmd of [['serve'], ['hook', 'claude-code'], ['mcp']]) expect(run(...cmd, '--help')).toContain('Usage: countersign');
  });

  it('in an agent project, countersign/client and the adapters import, with types the compiler accepts', () => {
    const project = join(tmp, 'agent');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(pkgDir, join(project, 'node_modules', 'countersign'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'agent', type: 'module', private: true }));
    writeFileSync(
      join(project, 'agent.ts'),
      `import { createClient } from 'countersign/client';\nimport type { Action } from 'countersign/client';\nconst cs = createClient({ url: 'http://localhost:8080', token: 'x'.repeat(16) });\nexport async function go(): Promise<Action> { return cs.wait((await cs.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/' } })).id); }\n// @ts-expect-error: the SDK's types refuse an unknown kind\nvoid cs.submit({ kind: 'nope', target: 't', input: {} });\n`,
    );
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['agent.ts'] }));
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', "const c = await import('countersign/client'); await import('countersign/ai'); console.log(typeof c.createClient)"], { cwd: project, encoding: 'utf8' });
    expect(out.trim()).toBe('function');
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The guide's shell blocks from step 2 on, in order, as one script. */
function guideScript(port: number, targetUrl: string): string {
  const doc = readFileSync(join(ROOT, 'docs/getting-started.md'), 'utf8');
  const from = doc.indexOf('## 2.');
  const blocks = [...doc.slice(from).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  const lines: string[] = [];
  for (const b of blocks) {
    for (let line of b.replace(/\\\n\s*/g, ' ').split('\n')) {
      if (!line.trim() || line.trim().startsWith('#')) continue;
      line = line.replace(/\s+#.*$/, '').replaceAll('localhost:8080', `localhost:${port}`);
      if (line.startsWith('export GITHUB_TOKEN=')) line = 'export GITHUB_TOKEN=ghp_test_token_0123456789';
      else if (line.startsWith('countersign serve ')) {
        // Step 4 runs in its own terminal: here, in the background until it listens.
        line = `${line} --listen 127.0.0.1:${port} > serve.log 2>&1 & SERVE=$!; trap 'kill $SERVE' EXIT; for i in $(seq 100); do curl -s localhost:${port}/healthz >/dev/null && break; sleep 0.2; done`;
      } else if (/^curl .* -d @action\.json/.test(line)) line = `ID=$(${line} | node -e 'process.stdin.on("data", d => console.log(JSON.parse(d).id))'); echo "submitted $ID"`;
      else if (line.startsWith('curl ')) line = line.replace('?wait=30', '?wait=1');
      else if (/countersign approve act_… *$/.test(line)) line = `${line} --yes`;
      lines.push(line.replaceAll('act_…', '$ID').replace("'<the published verifier key>'", '"$(countersign audit key --config countersign.yaml)"'));
      // The copied config points at a local stand-in for GitHub: tests make no outside calls.
      if (line.includes('my-gateway && cd my-gateway')) lines.push(`sed -i 's#https://api.github.com#${targetUrl}#; s#localhost:8080#localhost:${port}#; s#127.0.0.1:8080#127.0.0.1:${port}#' countersign.yaml`);
    }
  }
  return ['set -euo pipefail', ...lines.map((l) => `echo "+ ${l.replace(/["`$\\]/g, '\\$&')}"; ${l}`)].join('\n');
}

describe('docs/getting-started.md, followed literally with the installed package', () => {
  it('runs every command from step 2 to the end, in order', async () => {
    const target = await startTarget();
    try {
      const port = await freePort();
      const script = guideScript(port, target.url);
      const work = join(tmp, 'guide');
      mkdirSync(work);
      const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn('bash', ['-c', script], { cwd: work, env: env() });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/OK policy\.yaml: 3 rules/);
      expect(r.out).toMatch(/3 passed, 0 failed/);
      expect(r.out).toMatch(/submitted act_/);
      expect(r.out).toContain('approval recorded');
      expect(r.out).toMatch(/^VERIFIED: /m);
      // The second approval ran it against the stand-in, with the injected credential.
      expect(target.received.some((q) => q.url.endsWith('/repos/acme/app/releases') && q.headers.authorization === 'Bearer ghp_test_token_0123456789')).toBe(true);
    } finally {
      await target.close();
    }
  }, 120_000);
});
