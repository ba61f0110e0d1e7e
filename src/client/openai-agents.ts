// countersign/openai-agents: `needsApproval` backed by Countersign for OpenAI Agents JS.
import type { CountersignClient, WaitOptions } from './client.js';
import { isSettled } from './client.js';
import type { Action } from './types.js';

/** The parts of the Agents SDK this adapter touches, structurally (no import of the SDK). */
export interface ApprovalItem {
  rawItem: { type?: string; name?: string; callId?: string; arguments?: string };
  toolName?: string | undefined;
}
export interface InterruptedResult<State> {
  interruptions?: ApprovalItem[] | undefined;
  state: State & { approve(item: never): void; reject(item: never, options?: { message?: string }): void };
}

export interface AgentsGateOptions {
  /** A target of kind `tool` in the gateway's config. */
  target: string;
  wait?: WaitOptions;
}

export interface AgentsGate {
  /**
   * For `tool({ ..., needsApproval: gate.needsApproval('name') })`: submits the call to
   * Countersign (decide mode). Allowed by policy: no interruption. Otherwise the run is
   * interrupted until `resolve`.
   */
  needsApproval(toolName: string): (runContext: unknown, input: unknown, callId?: string) => Promise<boolean>;
  /**
   * Waits for Countersign's decision on each interruption of a run result and approves
   * or rejects it in the run state (with the reason). Resume with `run(agent, state)`.
   */
  resolve<State>(result: InterruptedResult<State>): Promise<InterruptedResult<State>['state']>;
}

function reasonOf(a: Action): string {
  const review = a.review?.reviews.find((r) => r.verdict === 'deny');
  if (a.status === 'denied') return review ? `Denied by ${review.reviewer}${review.comment ? `: ${review.comment}` : ''}` : `Denied by policy: ${a.decision.reason}`;
  return `Not approved: the Countersign action is ${a.status}`;
}

export function countersignApprovals(client: CountersignClient, o: AgentsGateOptions): AgentsGate {
  // callId → action id, so that `resolve` waits on the action `needsApproval` submitted.
  const byCall = new Map<string, string>();
  return {
    needsApproval(toolName) {
      return async (_ctx, input, callId) => {
        const a = await client.submit({ kind: 'tool', target: o.target, input: { tool: toolName, input: (input ?? {}) }, mode: 'decide' });
        if (callId) byCall.set(callId, a.id);
        return a.status !== 'approved';
      };
    },
    async resolve(result) {
      for (const item of result.interruptions ?? []) {
        const callId = item.rawItem.callId;
        const id = callId ? byCall.get(callId) : undefined;
        if (!id) {
          result.state.reject(item as never, { message: 'Not approved: no Countersign action for this call' });
          continue;
        }
        const current = await client.get(id);
        const a = isSettled(current) ? current : await client.wait(id, o.wait);
        if (a.status === 'approved') result.state.approve(item as never);
        else result.state.reject(item as never, { message: `${reasonOf(a)} (Countersign action ${a.id})` });
        byCall.delete(callId!);
      }
      return result.state;
    },
  };
}
