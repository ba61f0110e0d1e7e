// TEMPORARY stand-in with the agreed signature, replaced by the executor branch.
import type { HttpTargetConfig } from '../../config/schema.js';
import type { Executor } from '../../ports/executor.js';
export function createHttpExecutor(_opts: { targets: Record<string, HttpTargetConfig>; secrets: readonly string[] }): Executor {
  throw new Error('not merged yet');
}
