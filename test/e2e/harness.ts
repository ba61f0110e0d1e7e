import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { createClient } from '../../src/client/client.js';
import type { CountersignClient } from '../../src/client/client.js';
import { canary, keepFiles, keepResponse, keepText } from '../support/canaries.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP target on a loopback port that records every request it gets. */
export async function startTarget(handler?: (r: Received, res: ServerResponse) => boolean | void) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      if (handler?.(r, res)) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, method: r.method, url: r.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Canary values (test/support/canaries.ts): none may show up in anything the gateway produces. */
export const tokens = () => ({
  agent: canary('agent-token'),
  other: canary('other-token'),
  alice: canary('alice-token'),
  bob: canary('bob-token'),
  carol: canary('carol-token'),
  dave: canary('dave-token'),
  olga: canary('olga-token'),
  eve: canary('eve-token'),
  target: canary('target-credential'),
});
export type Tokens = ReturnType<typeof tokens>;

export const BASE_POLICY = `
default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: reads
    match: { kind: http, target: "git*" }
    when: http.method in ["GET", "HEAD"]
    outcome: allow
  - id: releases
    match: { kind: http, target: github }
    when: http.method == "POST" && http.path.matches("^/repos/[^/]+/[^/]+/releases$")
    outcome: review
    review: { approvers: [group:release], quorum: 2, timeout: 30m, escalate: { after: 10m, to: [group:oncall] } }
  - id: quick
    match: { kind: http, target: github }
    when: http.method == "PUT" && http.path.startsWith("/quick")
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 2s }
  - id: escalating
    match: { kind: http, target: github }
    when: http.method == "PATCH"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h, escalate: { after: 1s, to: [group:oncall] } }
  - id: no-deletes
    match: { kind: http }
    when: http.method == "DELETE"
    outcome: deny
    reason: Agents never delete through the API
`;

export function configText(targetUrl: string, extra = ''): string {
  return `listen: 127.0.0.1:0
store: { sqlite: ./countersign.db }
policy: ./policy.yaml
agents:
  - { id: deploy-bot, token: "\${T_AGENT}", owner: carol@example.com }
  - { id: other-bot, token: "\${T_OTHER}", owner: olga@example.com }
humans:
  - { id: alice@example.com, groups: [release], token: "\${T_ALICE}" }
  - { id: bob@example.com, groups: [release, oncall], token: "\${T_BOB}" }
  - { id: carol@example.com, groups: [release, admin], token: "\${T_CAROL}" }
  - { id: dave@example.com, groups: [release], token: "\${T_DAVE}" }
  - { id: olga@example.com, groups: [oncall], token: "\${T_OLGA}" }
  - { id: eve@example.com, groups: [marketing], token: "\${T_EVE}" }
targets:
  github: { kind: http, baseUrl: "${targetUrl}/api", headers: { Authorization: "Bearer \${T_TARGET}" }, timeout: 60s }
scheduler: { intervalMs: 100 }
log: { level: info }
${extra}`;
}

export function envFor(t: Tokens): NodeJS.ProcessEnv {
  return {
    T_AGENT: t.agent,
    T_OTHER: t.other,
    T_ALICE: t.alice,
    T_BOB: t.bob,
    T_CAROL: t.carol,
    T_DAVE: t.dave,
    T_OLGA: t.olga,
    T_EVE: t.eve,
    T_TARGET: t.target,
  };
}

export interface Workspace {
  dir: string;
  configPath: string;
  policyPath: string;
  tokens: Tokens;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export function workspace(targetUrl: string, opts: { policy?: string; extraConfig?: string } = {}): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-e2e-'));
  const t = tokens();
  const configPath = join(dir, 'countersign.yaml');
  const policyPath = join(dir, 'policy.yaml');
  writeFileSync(configPath, configText(targetUrl, opts.extraConfig));
  writeFileSync(policyPath, opts.policy ?? BASE_POLICY);
  const cleanup = () => {
    keepFiles(dir); // the store, its audit log, bundles and keys: scanned for canaries after the run
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, configPath, policyPath, tokens: t, env: envFor(t), cleanup };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Every log line the server printed (JSON). */
  logs: string[];
  client(token: string): CountersignClient;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `countersign serve` as a real process and waits until it listens. */
export async function startServer(ws: Workspace): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', ws.configPath], {
    env: { ...process.env, ...ws.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let buffer = '';
  const url = await new Promise<string>((resolve, reject) => {
    // COUNTERSIGN_E2E_START_MS: more time on a machine so loaded that starting node takes seconds.
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs.join('\n')}`)), Number(process.env.COUNTERSIGN_E2E_START_MS ?? 20_000));
    const onLine = (line: string) => {
      logs.push(line);
      try {
        const o = JSON.parse(line) as { msg?: string; url?: string };
        if (o.msg === 'countersign listening' && o.url) {
          clearTimeout(timer);
          resolve(o.url);
        }
      } catch {
        // not JSON
      }
    };
    child.stdout.on('data', (c: Buffer) => {
      buffer += c.toString('utf8');
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        onLine(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
      }
    });
    child.stderr.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
    child.once('exit', () => keepText('server-log', logs.join('\n')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  return {
    url,
    child,
    logs,
    client: (token) => createClient({ url, token, fetch: recordingFetch }),
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

/** fetch that keeps every answer's body for the canary scan. */
async function recordingFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const res = await fetch(input, init);
  void res
    .clone()
    .text()
    .then(keepResponse, () => undefined);
  return res;
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdin.end(input ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Raw HTTP, for malformed requests the SDK would never send. */
export async function raw(url: string, path: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; body: { error?: { code: string; message: string; details?: unknown } } & Record<string, unknown> }> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const res = await fetch(`${url}${path}`, { ...init, headers });
  const text = await res.text();
  keepResponse(text);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A positive signal for "nothing more happened": an allowed read submitted now has gone
 * through the gate, the executor and the target. Check an absence only after it, so a
 * forbidden effect that would arrive late is not missed (BASE_POLICY's `reads` rule).
 */
export async function laterReadDone(ctx: { server: ServerProcess; ws: Workspace; target: { received: Received[] } }): Promise<void> {
  const agent = ctx.server.client(ctx.ws.tokens.agent);
  const path = `/later-read/${randomBytes(6).toString('hex')}`;
  const a = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path } });
  const done = await agent.wait(a.id, { timeoutSeconds: 10 });
  if (done.status !== 'succeeded' || !ctx.target.received.some((r) => r.url === `/api${path}`)) {
    throw new Error(`the later read did not go through (status ${done.status})`);
  }
}

/** One target, one workspace and one running server for a whole test file. */
export function useServer(opts: { policy?: string; extraConfig?: string } = {}): {
  readonly target: Awaited<ReturnType<typeof startTarget>>;
  readonly ws: Workspace;
  readonly server: ServerProcess;
} {
  const ctx = {} as { target: Awaited<ReturnType<typeof startTarget>>; ws: Workspace; server: ServerProcess };
  beforeAll(async () => {
    ctx.target = await startTarget();
    ctx.ws = workspace(ctx.target.url, opts);
    ctx.server = await startServer(ctx.ws);
  });
  afterAll(async () => {
    await ctx.server?.stop();
    await ctx.target?.close();
    ctx.ws?.cleanup();
  });
  return ctx;
}
