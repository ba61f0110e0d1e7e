import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, JSONRPCMessage, JSONRPCRequest, RequestId, ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import { CallToolRequestSchema, CancelledNotificationSchema, ErrorCode, RELATED_TASK_META_KEY } from '@modelcontextprotocol/sdk/types.js';
import { checked } from './mcp-request-guard.js';

/** What serving one tools/call is given besides its params. */
export interface ToolCall {
  requestId: RequestId;
  /** Aborted when the client cancels the call or the connection closes. */
  signal: AbortSignal;
  /** Sends a notification about this call (progress), as the SDK's `extra.sendNotification`. */
  notify(notification: ServerNotification): Promise<void>;
}

export type ToolCallHandler = (params: ReturnType<typeof checked<typeof CallToolRequestSchema>>['params'], call: ToolCall) => Promise<CallToolResult>;

/**
 * tools/call served without the SDK Protocol's per-request machinery, on the same
 * transport and with the same answers: the SDK built, for every request, an abort
 * controller, an `extra` of a dozen members and closures, a four-step promise chain and
 * a zod parse for task parameters, and a call held for review kept all of it for minutes
 * (about 1.5 KB each). Here a call is its abort controller in a map.
 *
 * What the SDK does and this keeps: params that do not fit answer -32602 (mcp-request-guard.ts);
 * a handler's error answers its `code` when it is a safe integer, -32603 otherwise, with
 * its message and `data`; a call cancelled (notifications/cancelled) or cut by the
 * connection closing is aborted and gets no answer; progress goes out as the Server's
 * notifications, related to the call. Task-augmented calls and calls related to a task are
 * not taken (the SDK answers them: the gateway declares no tasks).
 */
export function createToolCallLane(handler: ToolCallHandler, deps: { notify(n: ServerNotification, relatedRequestId: RequestId): Promise<void>; onerror(e: Error): void }) {
  const open = new Map<RequestId, AbortController>();

  function answer(transport: Transport, message: JSONRPCMessage): Promise<void> {
    return transport.send(message);
  }

  return {
    /** Serves this tools/call on `transport` (true), or leaves it to the SDK (false). */
    take(request: JSONRPCRequest, transport: Transport): boolean {
      if (request.method !== 'tools/call') return false;
      const params = request.params as { task?: unknown; _meta?: Record<string, unknown> } | undefined;
      if (params?.task !== undefined || params?._meta?.[RELATED_TASK_META_KEY] !== undefined) return false;
      const id = request.id;
      const abort = new AbortController();
      open.set(id, abort);
      const call: ToolCall = {
        requestId: id,
        signal: abort.signal,
        notify: async (n) => {
          if (!abort.signal.aborted) await deps.notify(n, id);
        },
      };
      Promise.resolve()
        .then(() => handler(checked('tools/call', CallToolRequestSchema, request).params, call))
        .then(
          (result) => (abort.signal.aborted ? undefined : answer(transport, { result, jsonrpc: '2.0', id })),
          (error: { code?: unknown; message?: string; data?: unknown }) => {
            if (abort.signal.aborted) return undefined;
            const code = typeof error.code === 'number' && Number.isSafeInteger(error.code) ? error.code : ErrorCode.InternalError;
            return answer(transport, { jsonrpc: '2.0', id, error: { code, message: error.message ?? 'Internal error', ...(error.data !== undefined ? { data: error.data } : {}) } });
          },
        )
        .catch((e: unknown) => deps.onerror(new Error(`Failed to send response: ${String(e)}`)))
        .finally(() => {
          if (open.get(id) === abort) open.delete(id);
        });
      return true;
    },

    /** A notifications/cancelled about a call served here aborts it. The SDK sees the notification too. */
    cancelled(message: JSONRPCMessage): void {
      if (!('method' in message) || message.method !== 'notifications/cancelled' || !open.size) return;
      const parsed = CancelledNotificationSchema.safeParse(message);
      // As the SDK's own cancellation: a falsy id (0, '') cancels nothing.
      if (parsed.success && parsed.data.params.requestId) open.get(parsed.data.params.requestId)?.abort(parsed.data.params.reason);
    },

    /** The connection closed: every call served here stops sending. */
    closed(): void {
      for (const abort of open.values()) abort.abort();
      open.clear();
    },

    /** Calls open now (tests). */
    size: () => open.size,
  };
}

export type ToolCallLane = ReturnType<typeof createToolCallLane>;
