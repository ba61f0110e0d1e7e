// Starts the real gateway (dist/cli/main.js serve) as a child process, as an operator
// would, and waits until it listens. Its output is appended to `logFile` (the canary
// scan reads it). `crashPlan` preloads crash/crash-preload.mjs, the only way to arm
// the crash points (src/testing/crash-point.ts).
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const PRELOAD = fileURLToPath(new URL('../crash/crash-preload.mjs', import.meta.url));

export async function startGateway({ configPath, env, logFile, crashPlan, nodeArgs = [], timeoutMs = 60_000 }) {
  const args = [...nodeArgs];
  if (crashPlan) args.push('--import', PRELOAD);
  args.push(CLI, 'serve', '--config', configPath);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, ...(crashPlan ? { COUNTERSIGN_CRASH_PLAN: JSON.stringify(crashPlan) } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // A campaign that dies never leaves its gateway behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  void exited.then(() => process.removeListener('exit', reap));
  let buffer = '';
  const tail = [];
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // A start that hangs is killed: the caller may retry on a fresh process.
      child.kill('SIGKILL');
      reject(Object.assign(new Error(`the gateway did not start within ${timeoutMs} ms:\n${tail.join('\n')}`), { slow: true }));
    }, timeoutMs);
    child.stdout.on('data', (c) => {
      out?.write(c);
      buffer += c.toString('utf8');
      let i;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        tail.push(line);
        if (tail.length > 50) tail.shift();
        if (line.includes('"countersign listening"')) {
          try {
            const o = JSON.parse(line);
            clearTimeout(timer);
            resolve(o.url);
          } catch {
            // not JSON after all
          }
        }
      }
    });
    child.stderr.on('data', (c) => {
      out?.write(c);
      tail.push(c.toString('utf8'));
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`the gateway exited (${code ?? signal}) before listening:\n${tail.join('\n')}`), { exit: { code, signal } }));
    });
  });
  let closed = false;
  void exited.then(() => {
    closed = true;
    out?.end();
  });
  return {
    url,
    child,
    pid: child.pid,
    exited,
    tail,
    get alive() {
      return !closed;
    },
    /** SIGKILL now; resolves once the process is gone. */
    async kill() {
      if (!closed) child.kill('SIGKILL');
      return exited;
    },
    /** A graceful stop (SIGTERM), SIGKILL after `graceMs`. */
    async stop(graceMs = 10_000) {
      if (closed) return exited;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

/** Runs the CLI to completion (audit verify, export...). */
export function runCli(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** fetch with a JSON body and bearer token; never throws for HTTP statuses, only for a dead connection. */
export async function call(url, path, { method = 'GET', token, body, headers = {}, timeoutMs = 30_000 } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] ??= 'application/json';
  const res = await fetch(`${url}${path}`, {
    method,
    headers: h,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}
