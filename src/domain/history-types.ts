import type { Status } from './status.js';

/*
 * Facts about history for policy: counters (`counters.NAME`), first times
 * (`history.firstTime(...)`) and the time of day (`now.hour("Europe/Berlin")`).
 * The gateway computes them from the store (services/history-service.ts); the domain
 * only reads them through HistoryView, so evaluation stays pure and synchronous.
 */

/** What a counter counts: actions once allowed (by policy, a review or a grant), or once the gateway started running them. */
export const COUNT_ON = ['allowed', 'executed'] as const;
export type CountOn = (typeof COUNT_ON)[number];

/** The dimensions a counter may be kept per. */
export const COUNTER_DIMS = ['agent', 'target', 'kind', 'owner'] as const;
export type CounterDim = (typeof COUNTER_DIMS)[number];

/** One counter hit an action will make once it reaches its `on` status; stored with the action. */
export interface TallyEntry {
  counter: string;
  /** The values of the counter's `by` dimensions, joined (counterKey). */
  key: string;
  /** How much it counts: 1 per action, the number of statements for sql (never less than 1). */
  weight: number;
  on: CountOn;
}

/** A hit as the store indexes it. */
export interface CounterHit {
  actionId: string;
  counter: string;
  key: string;
  weight: number;
  /** When the action reached the counted status (ms since the epoch). */
  atMs: number;
}

const ALLOWED: ReadonlySet<Status> = new Set(['approved', 'running', 'succeeded', 'failed']);
const EXECUTED: ReadonlySet<Status> = new Set(['running', 'succeeded', 'failed']);

/** Whether an action in this status is counted by a counter that counts `on`. */
export function qualifies(on: CountOn, status: Status): boolean {
  return (on === 'allowed' ? ALLOWED : EXECUTED).has(status);
}

/** Whether the action counts as having acted on its target (for `history.firstTime`): it was allowed. */
export function hasActed(status: Status): boolean {
  return ALLOWED.has(status);
}

/** What evaluation may ask about history; absent (policy test, explain) means an empty history at the real time. */
export interface HistoryView {
  readonly nowMs: number;
  /** The weight of earlier hits of `counter` under `key` within the window ending now (excluding the action being decided). */
  count(counter: string, key: string, windowMs: number): number;
  /** True when `agent` never acted (on `target`, when given) before. */
  firstTime(agent: string, target: string | undefined): boolean;
}

/** The key of a counter's dimensions: NUL cannot appear in ids or target names. */
export function counterKey(values: readonly string[]): string {
  return values.join('\u0000');
}
