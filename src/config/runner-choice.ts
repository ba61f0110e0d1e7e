import { z } from 'zod';

export const RUNNER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A target's `runner`: `local` (the gateway runs it), a runner id, or several (each action runs on one). */
export const runnerChoice = z.union([z.literal('local'), z.string().regex(RUNNER_ID), z.array(z.string().regex(RUNNER_ID)).min(1)]).default('local');

/** The runner ids of a target's `runner`, or none when the gateway runs it. */
export function runnersOf(runner: string | readonly string[] | undefined): readonly string[] {
  if (runner === undefined || runner === 'local') return [];
  return typeof runner === 'string' ? [runner] : runner;
}
