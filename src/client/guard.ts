import { CountersignNotApprovedError } from './errors.js';
import { isSettled } from './settled.js';
import type { Action, ActionKind, SubmitRequest, WaitOptions } from './types.js';

/** What a gate needs of a client; declared here so guard.ts does not import client.ts (which imports it). */
export interface GateClient {
  submit(req: SubmitRequest, opts?: { idempotencyKey?: string }): Promise<Action>;
  wait(id: string, opts?: WaitOptions): Promise<Action>;
}

export interface GateOptions {
  kind: ActionKind;
  target: string;
  justification?: string;
  context?: Record<string, unknown>;
  onBehalfOf?: string;
  /** How long to wait for reviewers (default: until decided) and an abort signal. */
  wait?: WaitOptions;
}

export interface GuardOptions<A extends unknown[]> extends Omit<GateOptions, 'justification'> {
  /** The action's input for one call. Default: `{ tool: name, input: { args } }` (kind `tool`). */
  input?: (...args: A) => Record<string, unknown>;
  /** The tool name in the default input (default: the function's name). */
  name?: string;
  justification?: string | ((...args: A) => string);
}

function reasonOf(a: Action): string {
  const review = a.review?.reviews.find((r) => r.verdict === 'deny');
  if (review) return `denied by ${review.reviewer}${review.comment ? `: ${review.comment}` : ''}`;
  return `denied by policy (${a.decision.rules.join(', ')}): ${a.decision.reason}`;
}

/** Throws unless the decide-mode action is approved. */
export function assertApproved(a: Action): Action {
  switch (a.status) {
    case 'approved':
      return a;
    case 'denied':
      throw new CountersignNotApprovedError('DENIED', `Countersign action ${a.id} ${reasonOf(a)}`, a.id);
    case 'expired':
      throw new CountersignNotApprovedError('EXPIRED', `Countersign action ${a.id} expired before reviewers decided`, a.id);
    case 'cancelled':
      throw new CountersignNotApprovedError('CANCELLED', `Countersign action ${a.id} was cancelled`, a.id);
    case 'pending':
    case 'running':
    case 'succeeded':
    case 'failed':
      // Decide-mode actions never run in the gateway; an execute-mode one is not an approval to act on.
      throw new CountersignNotApprovedError('PENDING', `Countersign action ${a.id} is ${a.status}, not approved`, a.id);
  }
}

/**
 * Submits one action in decide mode and waits for its decision: resolves with the
 * approved action, throws CountersignNotApprovedError otherwise. The caller runs the
 * effect itself, after this resolves.
 */
export async function approval(client: GateClient, input: Record<string, unknown>, o: GateOptions, idempotencyKey?: string): Promise<Action> {
  const submitted = await client.submit(
    {
      kind: o.kind,
      target: o.target,
      input,
      mode: 'decide',
      ...(o.justification !== undefined ? { justification: o.justification } : {}),
      ...(o.context !== undefined ? { context: o.context } : {}),
      ...(o.onBehalfOf !== undefined ? { onBehalfOf: o.onBehalfOf } : {}),
    },
    idempotencyKey !== undefined ? { idempotencyKey } : {},
  );
  return assertApproved(isSettled(submitted) ? submitted : await client.wait(submitted.id, o.wait));
}

/**
 * Wraps any async function as a gated call: each call submits a decide-mode action
 * and runs `fn` only after it is approved (at once when policy allows; after the
 * reviewers otherwise). Denied, expired or cancelled calls throw
 * CountersignNotApprovedError and never run `fn`.
 */
export function guard<A extends unknown[], R>(client: GateClient, fn: (...args: A) => Promise<R> | R, o: GuardOptions<A>): (...args: A) => Promise<R> {
  const name = o.name ?? (fn.name || 'function');
  return async (...args: A) => {
    const input = o.input ? o.input(...args) : { tool: name, input: { args } };
    const { justification: j, input: _input, name: _name, ...gate } = o;
    const justification = typeof j === 'function' ? j(...args) : j;
    await approval(client, input, { ...gate, ...(justification !== undefined ? { justification } : {}) });
    return fn(...args);
  };
}
