#!/usr/bin/env node
// The long synchronous tasks in a V8 CPU profile (`node --cpu-prof`, or
// `npm run campaign:soak -- --waiters N --cpu-prof`): runs of consecutive samples
// that are not idle, longer than --over ms, each with where its time went. A run of
// busy samples is a turn of the event loop nobody else got: an event-loop stall.
//
//   node campaigns/soak/long-tasks.mjs PROFILE [--over 50] [--top 8] [--from S] [--to S]
//
// On a loaded machine a task's wall time includes the time the process was not given a
// core; its samples are not taken then, so a task is measured by its samples times the
// sampling interval ("busy ms", about its CPU time), and --over applies to that; the wall
// time is shown beside it. Times are seconds from the start of the profile (the
// gateway's start). Each task lists
// the functions with the most self time in it, and the deepest frames of our own code
// (dist/) or of a package that hold most of its samples, to see what called the work.
import { readFileSync } from 'node:fs';
import { parseArgs } from '../lib/args.mjs';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: long-tasks.mjs PROFILE [--over 50] [--top 8] [--from S] [--to S]\n');
  process.exit(2);
}
const args = parseArgs(rest, { over: 50, top: 8, from: 0, to: Infinity });
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const IDLE = new Set(['(idle)', '(program)']);
const label = (n) => {
  const f = n.callFrame;
  const url = f.url.replace(/^file:\/\//, '').replace(/.*\/(dist|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
};
/** The frames of a sample, leaf first. */
function stack(id) {
  const out = [];
  for (let x = id; x !== undefined; x = parent.get(x)) out.push(byId.get(x));
  return out;
}
const ours = (n) => /\/dist\//.test(n.callFrame.url) || /node_modules\//.test(n.callFrame.url);

// Sample times (ms from the start of the profile).
const times = [];
let t = 0;
for (const d of prof.timeDeltas) times.push((t += d / 1000));

// The sampling interval: the median gap between samples (1 ms unless --cpu-prof-interval).
const interval = [...prof.timeDeltas].sort((a, b) => a - b)[prof.timeDeltas.length >> 1] / 1000;
const tasks = [];
let cur;
for (let i = 0; i < prof.samples.length; i++) {
  const leaf = byId.get(prof.samples[i]);
  const idle = IDLE.has(leaf.callFrame.functionName);
  if (!idle) {
    if (!cur) cur = { from: i, to: i };
    else cur.to = i;
  } else if (cur) {
    tasks.push(cur);
    cur = undefined;
  }
}
if (cur) tasks.push(cur);

let shown = 0;
let totalLong = 0;
const selfAll = new Map();
for (const task of tasks) {
  // A task ends at the next (idle) sample: its length is from its first sample to that one.
  const start = times[task.from - 1] ?? 0;
  const end = times[task.to] ?? start;
  const ms = end - start;
  const busy = (task.to - task.from + 1) * interval;
  if (busy < args.over || start / 1000 < args.from || start / 1000 > args.to) continue;
  shown++;
  totalLong += busy;
  const self = new Map();
  const frames = new Map();
  for (let i = task.from; i <= task.to; i++) {
    const w = interval;
    const s = stack(prof.samples[i]);
    const k = label(s[0]);
    self.set(k, (self.get(k) ?? 0) + w);
    selfAll.set(k, (selfAll.get(k) ?? 0) + w);
    // The deepest of our frames (or a package's): what was running, named in our terms.
    const mine = s.find(ours);
    const m = mine ? label(mine) : '(node internals)';
    frames.set(m, (frames.get(m) ?? 0) + w);
  }
  const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, args.top);
  process.stdout.write(`\n${(start / 1000).toFixed(2)} s: ${busy.toFixed(0)} ms busy (${task.to - task.from + 1} samples), ${ms.toFixed(0)} ms wall\n`);
  process.stdout.write('  self time:\n');
  for (const [k, v] of top(self)) process.stdout.write(`    ${v.toFixed(1).padStart(8)} ms  ${k}\n`);
  process.stdout.write('  deepest frame of dist/ or a package:\n');
  for (const [k, v] of top(frames)) process.stdout.write(`    ${v.toFixed(1).padStart(8)} ms  ${k}\n`);
}
process.stdout.write(`\n${shown} tasks over ${args.over} ms busy, ${totalLong.toFixed(0)} ms in all (sampling interval ${interval.toFixed(2)} ms); self time over all of them:\n`);
for (const [k, v] of [...selfAll].sort((a, b) => b[1] - a[1]).slice(0, args.top * 2)) process.stdout.write(`  ${v.toFixed(1).padStart(8)} ms  ${k}\n`);
