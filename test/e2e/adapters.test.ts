// Each framework adapter in a real agent loop of the real library, driven by the
// library's mock model, against a real gateway process.
import { Agent, Runner, setTracingDisabled, tool as agentsTool, Usage } from '@openai/agents';
import type { Model, ModelRequest, ModelResponse } from '@openai/agents';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import type { BaseMessage } from '@langchain/core/messages';
import { tool as lcTool } from '@langchain/core/tools';
import { FakeStreamingChatModel } from '@langchain/core/utils/testing';
import { generateText, jsonSchema, stepCountIs, tool as aiTool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { countersignTools } from '../../src/client/ai.js';
import type { CountersignClient } from '../../src/client/client.js';
import { countersignTool } from '../../src/client/langchain.js';
import { countersignApprovals } from '../../src/client/openai-agents.js';
import { useServer } from './harness.js';

setTracingDisabled(true);

const POLICY = `
default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: weather
    match: { kind: tool, target: agent-tools }
    when: tool.name == "get_weather"
    outcome: allow
  - id: no-repo-deletes
    match: { kind: tool, target: agent-tools }
    when: tool.name == "delete_repo"
    outcome: deny
    reason: Repositories are never deleted by agents
`;

/** A reviewer approving whatever the agent has pending, in the background, as a human would from the CLI. */
function approveInBackground(bob: CountersignClient): () => void {
  let stop = false;
  void (async () => {
    while (!stop) {
      for (const a of (await bob.list({ status: ['pending'], limit: 10 })).actions) await bob.approve(a.id, a.fingerprint).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return () => (stop = true);
}

describe('framework adapters in a real agent loop', () => {
  const ctx = useServer({ policy: POLICY, extraConfig: 'tools: { agent-tools: {} }\n' });
  const agent = () => ctx.server.client(ctx.ws.tokens.agent);
  const bob = () => ctx.server.client(ctx.ws.tokens.bob);

  describe('Vercel AI SDK (ai), with MockLanguageModelV3', () => {
    const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
    const script = (toolName: string, input: unknown) => {
      let step = 0;
      return new MockLanguageModelV3({
        doGenerate: async () => {
          step++;
          if (step === 1) {
            return { content: [{ type: 'tool-call', toolCallId: `call-${toolName}`, toolName, input: JSON.stringify(input) }], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] };
          }
          return { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
        },
      });
    };

    it('runs a tool once a reviewer approves it, and never one that policy denies', async () => {
      const sent: string[] = [];
      const deleted: string[] = [];
      const tools = countersignTools(
        agent(),
        {
          send_email: aiTool({ description: 'Send an email', inputSchema: jsonSchema<{ to: string }>({ type: 'object', properties: { to: { type: 'string' } }, required: ['to'] }), execute: async ({ to }) => (sent.push(to), `sent to ${to}`) }),
          delete_repo: aiTool({ description: 'Delete a repository', inputSchema: jsonSchema<{ repo: string }>({ type: 'object', properties: { repo: { type: 'string' } }, required: ['repo'] }), execute: async ({ repo }) => (deleted.push(repo), 'deleted') }),
        },
        { target: 'agent-tools' },
      );
      const stop = approveInBackground(bob());
      try {
        const ok = await generateText({ model: script('send_email', { to: 'ops@example.com' }), tools, prompt: 'email ops', stopWhen: stepCountIs(3) });
        expect(sent).toEqual(['ops@example.com']);
        expect(ok.steps[0]!.toolResults[0]!.output).toBe('sent to ops@example.com');
      } finally {
        stop();
      }
      const denied = await generateText({ model: script('delete_repo', { repo: 'acme/app' }), tools, prompt: 'delete it', stopWhen: stepCountIs(3) });
      expect(deleted).toEqual([]);
      const err = denied.steps[0]!.content.find((c) => c.type === 'tool-error');
      expect(String((err as { error: unknown }).error)).toContain('Repositories are never deleted by agents');
    });
  });

  describe('OpenAI Agents JS (@openai/agents), needsApproval backed by Countersign', () => {
    /** The Agents SDK exports no mock model: this implements its Model interface with scripted responses, as its own tests do. */
    function scripted(calls: Array<{ name: string; args: unknown }>): Model {
      let i = 0;
      return {
        async getResponse(_req: ModelRequest): Promise<ModelResponse> {
          const call = calls[i++];
          const output = call
            ? [{ type: 'function_call' as const, callId: `call_${i}`, name: call.name, arguments: JSON.stringify(call.args), status: 'completed' as const }]
            : [{ type: 'message' as const, role: 'assistant' as const, status: 'completed' as const, content: [{ type: 'output_text' as const, text: 'done' }] }];
          return { usage: new Usage(), output, responseId: `r${i}` };
        },
        getStreamedResponse() {
          throw new Error('not used');
        },
      };
    }

    it('interrupts for review, resumes with the reviewers\' decision, and runs approved calls only', async () => {
      const gate = countersignApprovals(agent(), { target: 'agent-tools' });
      const ran: string[] = [];
      const mk = (name: string) =>
        agentsTool({ name, description: name, parameters: z.object({ to: z.string() }), needsApproval: gate.needsApproval(name), execute: async ({ to }) => (ran.push(`${name}:${to}`), 'ok') });
      const a = new Agent({ name: 'ops', instructions: 'help', model: scripted([{ name: 'get_weather', args: { to: 'paris' } }, { name: 'send_email', args: { to: 'ops@example.com' } }, { name: 'delete_repo', args: { to: 'acme/app' } }]), tools: [mk('get_weather'), mk('send_email'), mk('delete_repo')] });
      const runner = new Runner({ tracingDisabled: true });
      let result = await runner.run(a, 'go');
      // Allowed by policy: no interruption, it ran at once.
      expect(ran).toEqual(['get_weather:paris']);
      expect(result.interruptions?.map((x) => x.rawItem.type === 'function_call' && x.rawItem.name)).toEqual(['send_email']);
      const stop = approveInBackground(bob());
      try {
        result = await runner.run(a, await gate.resolve(result));
      } finally {
        stop();
      }
      expect(ran).toEqual(['get_weather:paris', 'send_email:ops@example.com']);
      expect(result.interruptions?.map((x) => x.rawItem.type === 'function_call' && x.rawItem.name)).toEqual(['delete_repo']);
      result = await runner.run(a, await gate.resolve(result));
      expect(ran).not.toContain('delete_repo:acme/app');
      expect(result.finalOutput).toBe('done');
    });
  });

  describe('LangChain JS (@langchain/core), with FakeStreamingChatModel', () => {
    it('runs a gated tool once approved; a denied call comes back to the model as an error', async () => {
      const ran: string[] = [];
      const sendEmail = lcTool(async ({ to }: { to: string }) => (ran.push(to), `sent to ${to}`), { name: 'send_email', description: 'Send an email', schema: z.object({ to: z.string() }) });
      const deleteRepo = lcTool(async ({ repo }: { repo: string }) => (ran.push(repo), 'deleted'), { name: 'delete_repo', description: 'Delete a repository', schema: z.object({ repo: z.string() }) });
      const tools = [countersignTool(agent(), sendEmail, { target: 'agent-tools' }), countersignTool(agent(), deleteRepo, { target: 'agent-tools' })];
      // FakeStreamingChatModel answers with its first response (content) and first chunk (tool calls): one per turn.
      const turns = [
        new AIMessage({ content: '', tool_calls: [{ id: 't1', name: 'send_email', args: { to: 'ops@example.com' }, type: 'tool_call' }] }),
        new AIMessage({ content: '', tool_calls: [{ id: 't2', name: 'delete_repo', args: { repo: 'acme/app' }, type: 'tool_call' }] }),
        new AIMessage('done'),
      ].map((m) => new FakeStreamingChatModel({ responses: [m], chunks: [m as never] }).bindTools(tools));
      // The agent loop: call the model, run the tool calls it asks for, feed the results back.
      const messages: BaseMessage[] = [new HumanMessage('do the work')];
      const stop = approveInBackground(bob());
      try {
        for (let turn = 0; turn < 5; turn++) {
          const reply = (await turns[Math.min(turn, turns.length - 1)]!.invoke(messages)) as AIMessage;
          messages.push(reply);
          if (!reply.tool_calls?.length) break;
          for (const call of reply.tool_calls) {
            const t = tools.find((x) => x.name === call.name)!;
            try {
              messages.push((await t.invoke(call)) as ToolMessage);
            } catch (e) {
              messages.push(new ToolMessage({ tool_call_id: call.id!, content: String(e), status: 'error' }));
            }
          }
        }
      } finally {
        stop();
      }
      expect(ran).toEqual(['ops@example.com']);
      const results = messages.filter((m): m is ToolMessage => m instanceof ToolMessage);
      expect(results.map((m) => m.text)).toEqual(['sent to ops@example.com', expect.stringContaining('Repositories are never deleted by agents')]);
      expect(messages[messages.length - 1]!.text).toBe('done');
    });
  });
});
