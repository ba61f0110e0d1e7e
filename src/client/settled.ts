import type { Action, Status } from './types.js';

const SETTLING: readonly Status[] = ['pending', 'running'];

/** Whether an action has settled: decided (and, in execute mode, run). */
export function isSettled(a: Pick<Action, 'status' | 'mode'>): boolean {
  if (a.status === 'approved') return a.mode === 'decide';
  return !SETTLING.includes(a.status);
}
