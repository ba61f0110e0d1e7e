// CPU time of processes and threads, from Linux's /proc (clock ticks, converted to µs):
// what a benchmark costs in CPU does not depend on how loaded the machine is, where its
// wall-clock figures do. Everything here returns undefined off Linux.
import { existsSync, readFileSync, readdirSync } from 'node:fs';

/** µs per clock tick (USER_HZ is 100 on Linux). */
const TICK_US = 10_000;
const ok = existsSync('/proc/self/stat');

/** utime, stime, cutime, cstime (ticks) and the parent pid of /proc/<path>/stat. */
function stat(path) {
  const s = readFileSync(path, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
}

/** CPU µs of each thread of a process: the main thread (tid = pid) apart from the others. */
export function threadCpu(pid) {
  if (!ok) return undefined;
  let main = 0;
  const others = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const t = stat(`/proc/${pid}/task/${tid}/stat`).own * TICK_US;
      if (tid === String(pid)) main = t;
      else others.set(tid, t);
    } catch {
      /* the thread ended */
    }
  }
  return { main, others };
}

/**
 * What the threads of a process spent between two threadCpu readings: the main thread, the
 * busiest other thread (a Node process's worker thread: the store's writer) and the rest
 * (V8's GC and compiler helpers, libuv's pool).
 */
export function threadCpuSpent(before, after) {
  if (!before || !after) return undefined;
  const spent = [...after.others].map(([tid, t]) => t - (before.others.get(tid) ?? 0)).sort((a, b) => b - a);
  return { main: after.main - before.main, busiestOther: spent[0] ?? 0, rest: spent.slice(1).reduce((a, b) => a + b, 0) };
}

/** CPU µs of a PostgreSQL server: the postmaster, its live children and those it reaped (their time goes to its cutime). */
export function serverCpu(postmasterPid) {
  if (!ok) return undefined;
  const pm = stat(`/proc/${postmasterPid}/stat`);
  let total = pm.own + pm.children;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const s = stat(`/proc/${p}/stat`);
      if (s.ppid === postmasterPid) total += s.own + s.children;
    } catch {
      /* the process ended */
    }
  }
  return total * TICK_US;
}

/** The parent pid of a process (a backend's is its postmaster). */
export function parentPid(pid) {
  return ok ? stat(`/proc/${pid}/stat`).ppid : undefined;
}

/** CPU µs of this process's reaped children (a pgbench run with spawnSync, once it ended). */
export function reapedChildrenCpu() {
  return ok ? stat('/proc/self/stat').children * TICK_US : undefined;
}

/** CPU ms (user + system) a process has used so far; NaN when it cannot be read (it ended, or not Linux). */
export function processCpuMs(pid) {
  try {
    return (stat(`/proc/${pid}/stat`).own * TICK_US) / 1000;
  } catch {
    return NaN;
  }
}
