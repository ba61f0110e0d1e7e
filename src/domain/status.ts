/** Action statuses; every switch over them is exhaustive. */
export const STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'running', 'succeeded', 'failed'] as const;
export type Status = (typeof STATUSES)[number];

/** Statuses after which nothing more happens to the action. */
export function isFinal(s: Status): boolean {
  switch (s) {
    case 'denied':
    case 'expired':
    case 'cancelled':
    case 'succeeded':
    case 'failed':
      return true;
    case 'pending':
    case 'approved':
    case 'running':
      return false;
    default:
      return unreachable(s);
  }
}

/**
 * Whether an action has settled for its mode: a long poll waits through pending
 * and running, and through approved in execute mode, where the gateway is about to run it.
 */
export function isSettled(s: Status, mode: 'execute' | 'decide'): boolean {
  if (s === 'approved') return mode === 'decide';
  return isFinal(s);
}

const TRANSITIONS: Record<Status, readonly Status[]> = {
  pending: ['approved', 'denied', 'expired', 'cancelled'],
  approved: ['running'],
  running: ['succeeded', 'failed'],
  denied: [],
  expired: [],
  cancelled: [],
  succeeded: [],
  failed: [],
};

export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}

export function unreachable(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
