import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandTargetConfig } from '../../config/command-schema.js';
import { commandTargetInfo } from '../../config/command-target-info.js';
import { parseByteSize } from '../../domain/byte-size.js';
import type { CommandTargetInfo } from '../../domain/command-input.js';
import { parseDuration } from '../../domain/duration.js';
import { AppError } from '../../domain/errors.js';
import type { Condition } from '../../domain/policy-cel.js';
import { compileCondition } from '../../domain/policy-cel.js';

export interface CommandPreviewSettings {
  argv: readonly string[];
  when?: Condition | undefined;
  timeoutMs: number;
}

/** A command target as whoever runs it (the gateway or a runner) needs it: real paths, env, limits. */
export interface CommandTargetSettings {
  name: string;
  info: CommandTargetInfo;
  /** Program name → its real absolute path. */
  paths: ReadonlyMap<string, string>;
  env: Readonly<Record<string, string>>;
  path: string;
  cwd?: string | undefined;
  preview: ReadonlyMap<string, CommandPreviewSettings>;
  drift: 'refuse' | 'ignore';
  timeoutMs: number;
  maxOutputBytes: number;
  labels: Readonly<Record<string, string>>;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The program's real absolute path, found now: an absolute path as configured (links
 * resolved), a bare name on the target's PATH. A program that is not there fails the
 * start, naming it, rather than the first action.
 */
export function resolveProgram(target: string, name: string, configured: string | undefined, searchPath: string): string {
  const want = configured ?? name;
  const candidates = want.startsWith('/') ? [want] : searchPath.split(':').filter((d) => d.startsWith('/')).map((d) => join(d, want));
  for (const c of candidates) {
    if (executable(c)) return realpathSync(c);
  }
  throw new AppError('CONFIG_INVALID', `targets.${target}.programs.${name}: ${want.startsWith('/') ? `${want} is not an executable file` : `"${want}" is not found on the target's path (${searchPath})`}`);
}

export function commandTargetSettings(name: string, t: CommandTargetConfig): CommandTargetSettings {
  const timeoutMs = parseDuration(t.limits.timeout);
  const paths = new Map(Object.entries(t.programs).map(([program, p]) => [program, resolveProgram(name, program, p.path, t.path)]));
  const preview = new Map<string, CommandPreviewSettings>();
  for (const [program, p] of Object.entries(t.preview)) {
    let when: Condition | undefined;
    if (p.when !== undefined) {
      const c = compileCondition(p.when, ['command']);
      if (!c.ok) throw new AppError('CONFIG_INVALID', `targets.${name}.preview.${program}.when: ${c.message}`);
      when = c.condition;
    }
    preview.set(program, { argv: p.argv, when, timeoutMs: p.timeout ? parseDuration(p.timeout) : timeoutMs });
  }
  return {
    name,
    info: commandTargetInfo(t),
    paths,
    env: { ...t.env },
    path: t.path,
    cwd: t.cwd,
    preview,
    drift: t.drift,
    timeoutMs,
    maxOutputBytes: parseByteSize(t.limits.maxOutput)!,
    labels: { ...(t.labels ?? {}) },
  };
}
