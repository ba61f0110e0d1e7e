/**
 * Named moments at which the crash campaign (campaigns/crash) may kill the gateway
 * with SIGKILL, to prove that nothing acknowledged is lost and nothing runs twice.
 *
 * In production this is a no-op: a call looks up one global slot that nothing in the
 * product ever fills. Only code running inside the process can fill it (the campaign
 * preloads campaigns/crash/crash-preload.mjs with `node --import`, which is not in the
 * published package); no config key, flag or environment variable of the gateway does.
 */
export const CRASH_POINTS = [
  /** Inside group commit: the batch's writes are done, COMMIT is not. */
  'store.before-commit',
  /** COMMIT returned; the writers were not yet told. */
  'store.after-commit',
  /** The action's `running` state is durable; the executor was not yet called. */
  'execution.before-executor',
  /** The executor returned; its result is not yet recorded. */
  'execution.after-executor',
  /** A checkpoint was signed; it is not yet stored. */
  'checkpoint.signed',
  /** A delivery (chat or webhook) is about to be sent. */
  'delivery.sending',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

const SLOT = Symbol.for('countersign.crash-point');

export function crashPoint(name: CrashPoint): void {
  const hook = (globalThis as { [SLOT]?: (name: CrashPoint) => void })[SLOT];
  if (hook) hook(name);
}
