/** What a command's execution returns to the agent (`result.body`), secrets redacted. */
export interface CommandResultBody {
  exitCode: number | null;
  /** The signal that ended the program (`SIGKILL` at the timeout), if any. */
  signal?: string;
  stdout: string;
  stderr: string;
  /** Output past the target's maxOutput was dropped. */
  truncated: boolean;
  tookMs: number;
  /** Where it ran: `local` (the gateway) or a runner's id. */
  ranOn: string;
  /** A drift refusal: the approved preview's output and the one just computed. */
  drift?: { approvedHash: string; actualHash: string; actual: { exitCode: number | null; stdout: string; stderr: string } };
}

/**
 * What the audit log keeps of a command's result: where it ran, the exit code and the
 * output's size and hash, never the output itself (it may hold data the log's readers
 * must not see), and a drift refusal's hashes.
 */
export function commandResultSummary(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Partial<CommandResultBody>;
  const out: Record<string, unknown> = {};
  if (typeof b.ranOn === 'string') out.ranOn = b.ranOn;
  if (typeof b.signal === 'string') out.signal = b.signal;
  if (typeof b.stdout === 'string') out.stdoutBytes = Buffer.byteLength(b.stdout, 'utf8');
  if (typeof b.stderr === 'string') out.stderrBytes = Buffer.byteLength(b.stderr, 'utf8');
  if (b.truncated === true) out.truncated = true;
  if (b.drift) out.drift = { approvedHash: b.drift.approvedHash, actualHash: b.drift.actualHash };
  return out;
}
