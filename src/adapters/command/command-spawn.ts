import { spawn } from 'node:child_process';

export interface SpawnSpec {
  /** Absolute path of the program. */
  file: string;
  /** argv[0] as the program sees it (its name), then the arguments. */
  argv: readonly string[];
  env: Record<string, string>;
  cwd: string;
  stdin?: string | undefined;
  timeoutMs: number;
  /** Bytes of stdout and of stderr kept (each); the rest is read and dropped. */
  keepBytes: number;
  signal?: AbortSignal | undefined;
}

export interface SpawnResult {
  exitCode: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  /** Output past keepBytes was dropped. */
  truncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  /** The program could not be started (ENOENT, EACCES...). */
  startError?: string;
  tookMs: number;
}

/** How long the streams may stay open after the program exited (a grandchild holding them) before they are cut. */
const CLOSE_GRACE_MS = 500;

/**
 * Runs one program: argv as given, no shell; its own process group, killed whole on
 * timeout or abort and after it exits (so nothing it started outlives the run); output
 * kept up to a bound, the rest drained so the program never blocks on a full pipe.
 */
export function spawnProgram(spec: SpawnSpec): Promise<SpawnResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const out = new Capture(spec.keepBytes);
    const err = new Capture(spec.keepBytes);
    let timedOut = false;
    let aborted = false;
    let settled = false;
    const child = spawn(spec.file, spec.argv.slice(1), {
      argv0: spec.argv[0],
      env: spec.env,
      cwd: spec.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      shell: false,
      windowsHide: true,
    });
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, spec.timeoutMs);
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (exitCode: number | null, signal: string | null, startError?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode,
        signal,
        stdout: out.bytes(),
        stderr: err.bytes(),
        truncated: out.dropped || err.dropped,
        timedOut,
        aborted,
        ...(startError !== undefined ? { startError } : {}),
        tookMs: Math.round(performance.now() - t0),
      });
    };
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined); // a program that does not read its stdin closes the pipe early
    child.once('error', (e: NodeJS.ErrnoException) => finish(null, null, e.code ?? e.message));
    child.once('exit', (code, signal) => {
      // Whatever the program left behind in its group goes with it.
      killGroup();
      const cut = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, signal);
      }, CLOSE_GRACE_MS);
      child.once('close', () => {
        clearTimeout(cut);
        finish(code, signal);
      });
    });
    if (spec.signal?.aborted) onAbort();
    child.stdin.end(spec.stdin ?? '');
  });
}

class Capture {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = false;
  constructor(private readonly limit: number) {}
  push(c: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.dropped = true;
      return;
    }
    const kept = c.length > room ? c.subarray(0, room) : c;
    if (kept.length < c.length) this.dropped = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}
