import { setFlagsFromString } from 'node:v8';

const FLAG = '--heap-growing-percent';

/**
 * The V8 flag that caps how far the old generation may grow past what the last full
 * collection left live (`memory.heapGrowthPercent`), or undefined: 0 leaves V8's own
 * heuristics, and a process started with the flag (on its command line or in
 * NODE_OPTIONS) keeps the operator's value.
 */
export function heapGrowthFlag(percent: number, execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  if (percent <= 0) return undefined;
  const given = (s: string) => s.startsWith(FLAG) || s.startsWith('--heap_growing_percent');
  if (execArgv.some(given) || (nodeOptions ?? '').split(/\s+/).some(given)) return undefined;
  return `${FLAG}=${percent}`;
}

/**
 * Without a cap V8 lets the old generation grow to about four times what was live at its
 * last full collection before collecting again: ten thousand answered waiters and their
 * approvals then sit as garbage for a minute, 100 MB above the live heap
 * (docs/reliability.md, many waiters). V8 reads this flag at each full collection, so it
 * takes effect when set at start, unlike the young generation's size.
 */
export function limitHeapGrowth(percent: number): string | undefined {
  const flag = heapGrowthFlag(percent, process.execArgv, process.env.NODE_OPTIONS);
  if (flag) setFlagsFromString(flag);
  return flag;
}
