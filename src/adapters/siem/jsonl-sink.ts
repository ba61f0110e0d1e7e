import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SiemSink } from '../../ports/siem-sink.js';

/** Appends one JSON event per line and fsyncs before the cursor moves. */
export function createJsonlSink(name: string, file: string): SiemSink {
  return {
    name,
    async deliver(events) {
      if (events.length === 0) return;
      mkdirSync(dirname(file), { recursive: true });
      const fd = openSync(file, 'a', 0o640);
      try {
        writeSync(fd, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}
