import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export const HOOK_PATH = '/integrations/claude-code/pre-tool-use';

export type HookOutput = { hookSpecificOutput: { hookEventName: string; permissionDecision: string; permissionDecisionReason: string } };

export interface HookAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One POST to the hook with full control of the bytes: `body` as one buffer (sent with
 * Content-Length) or as chunks (sent chunked, one write each), and headers as given
 * (no Content-Type unless set).
 */
export function postHook(url: string, opts: { headers?: Record<string, string>; body?: Buffer | string; chunks?: Buffer[] }): Promise<HookAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${HOOK_PATH}`, { method: 'POST', headers: opts.headers ?? {}, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.chunks) {
      const chunks = [...opts.chunks];
      const next = () => {
        const c = chunks.shift();
        if (!c) return req.end();
        if (req.write(c)) setImmediate(next);
        else req.once('drain', next);
      };
      next();
    } else req.end(opts.body ?? '');
  });
}

/** The decision in an answer; throws when the answer is not one in Claude Code's hook shape. */
export function hookDecisionOf(a: HookAnswer): HookOutput['hookSpecificOutput'] {
  const o = (JSON.parse(a.text) as Partial<HookOutput>).hookSpecificOutput;
  if (!o || o.hookEventName !== 'PreToolUse' || !['allow', 'deny', 'ask'].includes(o.permissionDecision) || typeof o.permissionDecisionReason !== 'string') {
    throw new Error(`not a PreToolUse decision: ${a.text.slice(0, 300)}`);
  }
  return o;
}
