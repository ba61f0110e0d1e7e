// Loaded into a gateway process with `node --import` by a benchmark: records the event-loop
// delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) for the process's whole life
// and writes its histogram, in ms, to $BENCH_ELD_OUT when the process gets SIGTERM.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const out = process.env.BENCH_ELD_OUT;
if (out) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  process.once('SIGTERM', () => {
    writeFileSync(out, JSON.stringify({ p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)), max: ms(h.max), samples: h.count }));
  });
}
