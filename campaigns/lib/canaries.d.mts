export const CANARY_PATTERN: RegExp;
export interface CanaryFinding {
  file: string;
  offset: number;
  line: number;
  canary: string;
  form: 'clear' | 'base64';
  context: string;
}
export interface CanaryScan {
  scannedFiles: number;
  scannedBytes: number;
  found: CanaryFinding[];
}
export type Canary = string | { value: string; label: string };
export function newCanary(): string;
export function scanForCanaries(opts: { paths: string[]; canaries: Canary[]; skip?: (file: string) => boolean }): CanaryScan;
export function canaryReport(dir: string, canaries: Canary[], extraPaths?: string[]): CanaryScan;
