// Compiles src/ to plain ESM in a temporary directory (type-stripping only), so that a
// test can run the real store in a second Node process without a prior build.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) yield p;
  }
}

/** Writes `<dest>/src/**.js` and links `<dest>/node_modules` to the project's. */
export function transpileSrc(dest: string): void {
  for (const file of sources(join(root, 'src'))) {
    const out = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const target = join(dest, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
  }
  writeFileSync(join(dest, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(root, 'node_modules'), join(dest, 'node_modules'), 'dir');
}
