/**
 * `countersign ... | head`: once the reader is gone, writes to stdout fail with EPIPE,
 * emitted as an 'error' event that, unhandled, prints a stack trace. Output nobody reads
 * is not an error: stop quietly, with the exit code the command had set so far (the
 * Claude Code hook sets 2 until its decision is printed, so it still blocks).
 */
const watched = new WeakSet<NodeJS.WriteStream>();

export function quietOnClosedOutput(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const s of streams) {
    if (watched.has(s)) continue;
    watched.add(s);
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}
