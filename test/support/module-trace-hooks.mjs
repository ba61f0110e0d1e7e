// Module customization hooks (node:module register()): every URL the process resolves
// through import (static or dynamic) is appended to a file, one a line. Used by
// test/e2e/optional-parts.test.ts to see which parts of the gateway a config loads.
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(file, `${r.url}\n`);
  return r;
}
