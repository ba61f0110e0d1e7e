// countersign/ai: gate the tools of a Vercel AI SDK (`ai`) agent through Countersign.
import type { CountersignClient, WaitOptions } from './client.js';
import { approval } from './guard.js';

/** The part of an AI SDK tool this adapter touches: its `execute`. */
export interface ExecutableTool {
  // Matches the AI SDK's ToolExecuteFunction structurally (input, options) without importing it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  execute?: (input: any, options: any) => unknown;
}

export interface AiGateOptions {
  /** A target of kind `tool` in the gateway's config. */
  target: string;
  wait?: WaitOptions;
}

/**
 * Returns the tools with each `execute` gated: a call is submitted as
 * `{kind: tool, target, input: {tool: <name>, input}}` in decide mode, and runs only
 * once approved. A denied or expired call throws CountersignNotApprovedError, which the
 * AI SDK hands back to the model as a tool error. Tools without `execute` pass through.
 */
export function countersignTools<T extends Record<string, ExecutableTool>>(client: CountersignClient, tools: T, o: AiGateOptions): T {
  const out: Record<string, ExecutableTool> = {};
  for (const [name, t] of Object.entries(tools)) {
    const execute = t.execute;
    out[name] = execute
      ? {
          ...t,
          execute: async (input: unknown, options: { abortSignal?: AbortSignal } | undefined) => {
            const signal = options?.abortSignal;
            await approval(client, { tool: name, input: input ?? {} }, { kind: 'tool', target: o.target, wait: { ...o.wait, ...(signal ? { signal } : {}) } });
            return execute(input, options);
          },
        }
      : t;
  }
  return out as T;
}
