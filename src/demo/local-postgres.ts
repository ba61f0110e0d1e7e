// A private, throwaway PostgreSQL cluster: the real server, started from the installed
// Debian/Ubuntu binaries. The demo uses it as its sample database when PostgreSQL is
// installed; the test suite (test/support/pg-global-setup.ts) and benchmarks
// (test/support/pg-cluster.mjs re-exports the built module) start theirs with it too.
//
//   const cluster = await startPgCluster();   // initdb + start, on 127.0.0.1:<free port>
//   cluster.url('postgres')                   // postgres://postgres:<pw>@127.0.0.1:<port>/postgres
//   await cluster.stop();                     // always; also done by an exit hook
//
// Root: initdb and postgres refuse to run as root, so as root every server binary runs
// as the `postgres` user (`runuser -u postgres --`) in a temp dir that user owns; as
// any other user they run directly. The binaries are found under
// /usr/lib/postgresql/<version>/bin (newest first; COUNTERSIGN_PG_BIN overrides), never
// on PATH, because Debian does not put the server binaries there.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PG_ROOT = '/usr/lib/postgresql';

const NEEDED = ['initdb', 'postgres', 'pg_ctl', 'pg_dump'];

export interface PgClusterInfo {
  host: string;
  port: number;
  /** The superuser. */
  user: string;
  password: string;
  /** The server's major version (15, 16...). */
  version: number;
  /** The directory holding the server and client binaries (initdb, pg_dump, psql...). */
  binDir: string;
}

export interface PgCluster extends PgClusterInfo {
  /** A connection URL for `database` as the superuser. */
  url(database: string): string;
  /** Stops the server (fast shutdown) and deletes its files. Idempotent. */
  stop(): Promise<void>;
  /** Stops the server (fast shutdown: sessions end) but keeps its files: a database outage, for tests. */
  halt(): Promise<void>;
  /** Starts a halted server again, same port, same data; resolves once it accepts connections. */
  resume(): Promise<void>;
}

export interface StartPgClusterOptions {
  /** Extra `postgresql.conf` settings, e.g. `{ max_connections: '20' }`. */
  settings?: Record<string, string>;
}

/** The newest installed server's bin directory, or null when none is installed. */
export function findInstalledPg(): { binDir: string; version: number } | null {
  const override = process.env.COUNTERSIGN_PG_BIN;
  const candidates = override ? [override] : [];
  if (!override && existsSync(PG_ROOT)) {
    const versions = readdirSync(PG_ROOT)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(PG_ROOT, v, 'bin')));
  }
  for (const dir of candidates) {
    if (NEEDED.every((b) => existsSync(join(dir, b)))) {
      const out = execFileSync(join(dir, 'postgres'), ['--version'], { encoding: 'utf8' });
      const m = /(\d+)(?:\.\d+)?/.exec(out.replace(/^[^\d]*/, ''));
      return { binDir: dir, version: m ? Number(m[1]) : 0 };
    }
  }
  return null;
}

/** The newest installed server's bin directory; throws a message saying how to install one. */
export function findPgBinDir(): { binDir: string; version: number } {
  const found = findInstalledPg();
  if (found) return found;
  throw new Error(
    `PostgreSQL server binaries not found (looked for ${NEEDED.join(', ')} in ${process.env.COUNTERSIGN_PG_BIN ?? `${PG_ROOT}/<version>/bin`}). ` +
      'Install them: `sudo apt-get install -y postgresql postgresql-client` (Debian/Ubuntu), or set COUNTERSIGN_PG_BIN to a bin directory. ' +
      'The tests start their own private cluster; no running server is needed.',
  );
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as the `postgres` user when we are root. */
function runPg(binDir: string, bin: string, args: string[]): string {
  const file = join(binDir, bin);
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${bin} ${args[0] ?? ''} failed: ${err.stderr || err.stdout || err.message}`, { cause: e });
  }
}

/** runPg without blocking the event loop (a start takes seconds; the caller may be serving load meanwhile). */
function runPgAsync(binDir: string, bin: string, args: string[]): Promise<void> {
  const file = join(binDir, bin);
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  return new Promise((resolve, reject) =>
    execFile(cmd, argv, { encoding: 'utf8' }, (e, stdout, stderr) => (e ? reject(new Error(`${bin} ${args[0] ?? ''} failed: ${stderr || stdout || e.message}`, { cause: e })) : resolve())),
  );
}

/** Fast shutdown of the postmaster of `dataDir`, waiting until it is gone (SIGQUIT after 10 s). */
async function haltServer(dataDir: string): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (!pid) return;
  try {
    process.kill(pid, 'SIGINT'); // fast shutdown: ends sessions, no recovery needed
  } catch {
    /* already gone */
  }
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, 'SIGQUIT');
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Watches this process from outside: if it dies without stopping the cluster (SIGKILL,
 * a crash), the watchdog stops the server and deletes its files, so no stray postmaster
 * outlives a test run or a demo.
 */
function startWatchdog(dataDir: string, baseDir: string): void {
  const script = `
  const fs = require('node:fs');
  const [parent, dataDir, baseDir] = process.argv.slice(1);
  const alive = (p) => { try { process.kill(p, 0); return true; } catch { return false; } };
  setInterval(() => {
      if (alive(Number(parent))) return;
      let pid = null;
      try { pid = Number(fs.readFileSync(dataDir + '/postmaster.pid', 'utf8').split('\\n')[0]); } catch {}
      if (pid) { try { process.kill(pid, 'SIGQUIT'); } catch {} }
      setTimeout(() => { try { fs.rmSync(baseDir, { recursive: true, force: true }); } catch {} process.exit(0); }, 1000);
  }, 500);`;
  const child = spawn(process.execPath, ['-e', script, String(process.pid), dataDir, baseDir], { detached: true, stdio: 'ignore' });
  child.unref();
}

/** initdb into a fresh temp dir, start the server on 127.0.0.1 and a free port, wait until it accepts connections. */
export async function startPgCluster(opts: StartPgClusterOptions = {}): Promise<PgCluster> {
  const { binDir, version } = findPgBinDir();
  const baseDir = mkdtempSync(join(tmpdir(), 'countersign-pg-'));
  const dataDir = join(baseDir, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwFile = join(baseDir, 'pw');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(baseDir, uid, gid);
    chownSync(pwFile, uid, gid);
  }
  chmodSync(baseDir, 0o700);
  let stopped = false;
  const onExit = () => {
    // Synchronous last resort: immediate shutdown and delete the files.
    if (stopped) return;
    const pid = postmasterPid(dataDir);
    if (pid) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* already gone */
      }
    }
    rmSync(baseDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    runPg(binDir, 'initdb', ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync']);
    const port = await freePort();
    const conf: Record<string, string> = {
      listen_addresses: "'127.0.0.1'",
      port: String(port),
      // Our own socket directory: the system one (/var/run/postgresql) may not exist or be writable.
      unix_socket_directories: `'${baseDir}'`,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: '16MB',
      max_connections: '60',
      max_prepared_transactions: '0',
      log_min_messages: 'warning',
      logging_collector: 'off',
      ...opts.settings,
    };
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      `\n# countersign private cluster\n${Object.entries(conf)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n')}\n`,
    );
    runPg(binDir, 'pg_ctl', ['-D', dataDir, '-l', join(baseDir, 'server.log'), '-w', '-t', '60', 'start']);
    startWatchdog(dataDir, baseDir);
    const info: PgClusterInfo = { host: '127.0.0.1', port, user: 'postgres', password, version, binDir };
    return {
      ...info,
      url: (database) => `postgres://${info.user}:${encodeURIComponent(password)}@${info.host}:${port}/${encodeURIComponent(database)}`,
      async stop() {
        if (stopped) return;
        await haltServer(dataDir);
        stopped = true;
        process.removeListener('exit', onExit);
        rmSync(baseDir, { recursive: true, force: true });
      },
      halt: () => haltServer(dataDir),
      async resume() {
        if (stopped) throw new Error('the cluster was stopped and deleted');
        await runPgAsync(binDir, 'pg_ctl', ['-D', dataDir, '-l', join(baseDir, 'server.log'), '-w', '-t', '60', 'start']);
      },
    };
  } catch (e) {
    let log = '';
    try {
      log = readFileSync(join(baseDir, 'server.log'), 'utf8');
    } catch {
      /* no log yet */
    }
    onExit();
    stopped = true;
    process.removeListener('exit', onExit);
    throw new Error(`${(e as Error).message}${log ? `\nserver log:\n${log}` : ''}`, { cause: e });
  }
}
