// TEMPORARY stand-in with the agreed signature, replaced by the store branch.
import type { Store } from '../../../ports/store.js';
export function createSqliteStore(_opts: { path: string; busyTimeoutMs?: number; maxBatch?: number }): Store {
  throw new Error('not merged yet');
}
