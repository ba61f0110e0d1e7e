import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { CLI } from './harness.js';

export interface RunnerProcess {
  child: ChildProcess;
  /** Its instance id, from its "runner connected" log line. */
  instance: string;
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `countersign runner` as a real process and waits until it is connected (or rejects with its logs). */
export async function startRunnerProcess(opts: { gateway: string; config: string; env: NodeJS.ProcessEnv; args?: string[]; timeoutMs?: number }): Promise<RunnerProcess> {
  const child = spawn(process.execPath, [CLI, 'runner', '--gateway', opts.gateway, '--config', opts.config, ...(opts.args ?? [])], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const stop = (signal: NodeJS.Signals = 'SIGTERM') =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  const instance = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop('SIGKILL');
      reject(new Error(`runner did not connect:\n${logs.join('\n')}`));
    }, opts.timeoutMs ?? 20_000);
    let buffer = '';
    child.stdout.on('data', (c: Buffer) => {
      buffer += c.toString('utf8');
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        logs.push(line);
        try {
          const o = JSON.parse(line) as { msg?: string; instance?: string };
          if (o.msg === 'runner connected' && o.instance) {
            clearTimeout(timer);
            resolve(o.instance);
          }
        } catch {
          // not JSON
        }
      }
    });
    child.stderr.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runner exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  return { child, instance, logs, stop };
}
