// Preloaded into the gateway by the crash campaign only (node --import): arms the crash
// points of src/testing/crash-point.ts. COUNTERSIGN_CRASH_PLAN = {"point": "...", "hit": N}
// kills the process with SIGKILL the Nth time that point is reached (per thread: the
// SQLite writer runs in its own thread, which loads this module too).
const raw = process.env.COUNTERSIGN_CRASH_PLAN;
if (raw) {
  const plan = JSON.parse(raw);
  let hits = 0;
  globalThis[Symbol.for('countersign.crash-point')] = (name) => {
    if (name === plan.point && ++hits >= plan.hit) process.kill(process.pid, 'SIGKILL');
  };
}
