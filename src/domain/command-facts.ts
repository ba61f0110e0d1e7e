import type { ParsedCommand } from './command-parse.js';
import { parseCommand } from './command-parse.js';
import type { Preset } from './command-preset.js';
import { PRESETS } from './command-preset.js';

/**
 * What policy sees of a `command` action, as `cmd.*`. Computed by the gateway from the
 * argv and the program's preset in the target's config, never taken from the agent.
 */
export interface CommandFacts {
  /** The program's name under the target's `programs` (argv[0]). */
  program: string;
  /** The preset that read the arguments (`kubectl`, `helm`, `terraform`, `aws`, `generic`). */
  preset: string;
  /** The whole argv, as sent. */
  argv: string[];
  /** argv without the program. */
  args: string[];
  verb: string;
  subcommand: string;
  resource: string;
  name: string;
  namespace: string;
  flags: ParsedCommand['flags'];
  positionals: string[];
  /** Whether the action sends text on stdin, and the names of the files it writes. */
  stdin: boolean;
  files: string[];
}

export interface CommandInput {
  argv: string[];
  stdin?: string;
  files?: Record<string, string>;
}

/** Facts from an input already checked (`checkCommandInput`): the parse cannot fail here. */
export function commandFactsOf(input: CommandInput, preset: Preset, parsed: ParsedCommand): CommandFacts {
  return {
    program: input.argv[0]!,
    preset: preset.name,
    argv: [...input.argv],
    args: input.argv.slice(1),
    ...parsed,
    stdin: input.stdin !== undefined,
    files: Object.keys(input.files ?? {}).sort(),
  };
}

/**
 * For `policy test` and other places without the target's config: the preset named
 * like the program (`kubectl` reads as kubectl), else the generic one. A parse the
 * preset refuses gives the generic reading: policy can only see more, never a refusal.
 */
export function commandFactsWithoutTarget(input: Record<string, unknown>): CommandFacts {
  const argv = Array.isArray(input.argv) ? input.argv.filter((a): a is string => typeof a === 'string') : [];
  const program = argv[0] ?? '';
  const named = (PRESETS as Record<string, Preset>)[program];
  const preset = named && Object.hasOwn(PRESETS, program) ? named : PRESETS.generic;
  let r = parseCommand(preset, argv.slice(1));
  if (!r.ok) r = parseCommand(PRESETS.generic, argv.slice(1));
  const parsed: ParsedCommand = r.ok ? r.parsed : { verb: '', subcommand: '', resource: '', name: '', namespace: '', flags: {}, positionals: [] };
  const files = typeof input.files === 'object' && input.files !== null ? Object.keys(input.files) : [];
  return {
    ...commandFactsOf({ argv: argv.length ? argv : [''] }, preset, parsed),
    stdin: typeof input.stdin === 'string',
    files: files.sort(),
  };
}
