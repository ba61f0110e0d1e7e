import type { ActionRecord, ExecutionResult } from '../../domain/action-record.js';
import type { Redactor, RedactorOptions } from '../../domain/redact-secrets.js';
import { createRedactor } from '../../domain/redact-secrets.js';
import type { Executor } from '../../ports/executor.js';
import type { McpUpstreams } from '../../mcp/mcp-upstreams.js';

export interface McpExecutorOptions {
  upstreams: McpUpstreams;
  /** Every secret value of the config: redacted from results and errors. */
  secrets?: readonly string[];
  /** The run length and which secrets are credentials (LoadedConfig.credentials); see createRedactor. */
  redaction?: RedactorOptions;
  /** The config's redactor, shared (built from `secrets` otherwise). */
  redactor?: Redactor;
  /** Results larger than this (as JSON) are replaced by an error result. */
  maxResultBytes: number;
}

type Result = Omit<ExecutionResult, 'startedAt' | 'finishedAt'>;

function failure(code: string, message: string, redactor: Redactor): Result {
  return { ok: false, reason: code === 'MCP_TIMEOUT' ? 'timeout' : 'error', error: { code, message: redactor.text(message) } };
}

/**
 * Runs an approved `mcp` action: one tools/call on the upstream server, with the
 * gateway's connection and credentials. The result (a CallToolResult) is stored as
 * JSON with every configured secret redacted; `ok` is false when the tool reported an
 * error. Never throws.
 */
export function createMcpExecutor(opts: McpExecutorOptions): Executor {
  // One automaton for every secret and form, built here once.
  const redactor = opts.redactor ?? createRedactor(opts.secrets ?? [], opts.redaction);
  return {
    async execute(action: ActionRecord, signal?: AbortSignal): Promise<Result> {
      const upstream = opts.upstreams.get(action.target);
      if (!upstream) return failure('MCP_SERVER_UNKNOWN', `no MCP server named ${action.target}`, redactor);
      const args = (action.input.arguments ?? {}) as Record<string, unknown>;
      try {
        const result = await upstream.callTool(String(action.input.tool), args, signal);
        // Measured as the JSON that is stored. The result is already plain JSON data (the
        // SDK client parsed it from JSON text), so it is not parsed back from this text.
        // The redaction below copies it where it redacts (and returns it as it is where
        // nothing matched); it redacts every string, at any depth, as the tool wrote it: a
        // secret holding " or \ is escaped in JSON text, and would slip past a search of
        // the serialized result.
        if (Buffer.byteLength(JSON.stringify(result)) > opts.maxResultBytes) {
          return { ...failure('MCP_RESULT_TOO_LARGE', `the tool's result is larger than ${opts.maxResultBytes} bytes`, redactor), bodyTruncated: true };
        }
        const body = redactor.deep(result);
        return { ok: body.isError !== true, body, bodyEncoding: 'json' };
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const code = /timed out|timeout/i.test(message) ? 'MCP_TIMEOUT' : 'MCP_ERROR';
        return failure(code, message, redactor);
      }
    },
  };
}
