// countersign/langchain: a gated tool wrapper for LangChain JS (@langchain/core).
import { DynamicStructuredTool } from '@langchain/core/tools';
import type { StructuredToolInterface } from '@langchain/core/tools';
import type { CountersignClient, WaitOptions } from './client.js';
import { approval } from './guard.js';

export interface LangChainGateOptions {
  /** A target of kind `tool` in the gateway's config. */
  target: string;
  wait?: WaitOptions;
}

/**
 * A tool with the same name, description and schema whose calls run only once
 * Countersign approves them (decide mode, `{kind: tool, target, input: {tool: name, input}}`).
 * A denied or expired call throws CountersignNotApprovedError: with
 * `handleToolError` (the default for tool calls in agents) the model sees the reason.
 */
export function countersignTool(client: CountersignClient, tool: StructuredToolInterface, o: LangChainGateOptions): DynamicStructuredTool {
  return new DynamicStructuredTool({
    name: tool.name,
    description: tool.description,
    schema: tool.schema as never,
    func: async (input: unknown, _runManager, config) => {
      const signal = config?.signal;
      await approval(client, { tool: tool.name, input: (input ?? {}) }, { kind: 'tool', target: o.target, wait: { ...o.wait, ...(signal ? { signal } : {}) } });
      return tool.invoke(input as never, config) as Promise<unknown>;
    },
  });
}
