/** Facts about this process that recovery needs (injected so that tests can vary them). */
export interface ProcessInfo {
  host: string;
  pid: number;
  /** Unique per process start. */
  instance: string;
  isAlive(pid: number): boolean;
}
