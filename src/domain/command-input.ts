import { AppError } from './errors.js';
import type { CommandFacts, CommandInput } from './command-facts.js';
import { commandFactsOf } from './command-facts.js';
import { parseCommand } from './command-parse.js';
import type { Preset } from './command-preset.js';

/** What the submit path knows of a command target: its programs' presets and its input limits. */
export interface CommandTargetInfo {
  /** Program name → its preset (with the target's extra flags and allowed flags). */
  programs: ReadonlyMap<string, Preset>;
  maxStdinBytes: number;
  maxFilesBytes: number;
}

/**
 * Limits on one `command` input that hold for every target (docs/commands.md). A
 * real command line is far within them; past them the input is refused before anyone
 * sees it, and nothing runs.
 */
export const COMMAND_INPUT_LIMITS = Object.freeze({
  maxArgs: 4096,
  /** UTF-8 bytes of all arguments together (Linux allows about 2 MiB for argv and env). */
  maxArgvBytes: 256 * 1024,
  maxFiles: 32,
});

const KEYS = new Set(['argv', 'stdin', 'files']);
/** A program is named as in the target's list: a plain name, never a path. */
const PROGRAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
/** A file name in the run's directory: no separator, no `.`/`..`, no hidden control characters. */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The shape, sizes and program of a `command` input, then its parse by the program's preset; refused with a code naming what is wrong. */
export function checkCommandInput(input: Record<string, unknown>, target: CommandTargetInfo): { input: CommandInput; facts: CommandFacts } {
  for (const k of Object.keys(input)) {
    if (!KEYS.has(k)) throw new AppError('VALIDATION_FAILED', `input.${k}: unknown key (a command input has only the keys argv, stdin, files)`);
  }
  const { argv, stdin, files } = input;
  if (!Array.isArray(argv) || argv.length === 0) throw new AppError('COMMAND_INVALID_ARGV', 'input.argv: a non-empty list of strings is required (the program, then its arguments)');
  if (argv.length > COMMAND_INPUT_LIMITS.maxArgs) {
    throw new AppError('COMMAND_INVALID_ARGV', `input.argv: ${argv.length} arguments is over the limit of ${COMMAND_INPUT_LIMITS.maxArgs}`, { count: argv.length, limit: COMMAND_INPUT_LIMITS.maxArgs });
  }
  let bytes = 0;
  argv.forEach((a, i) => {
    if (typeof a !== 'string') throw new AppError('COMMAND_INVALID_ARGV', `input.argv[${i}]: must be a string`, { index: i });
    // A NUL ends the argument at the exec boundary: the program would run a shorter one than reviewers saw.
    if (a.includes('\u0000')) throw new AppError('COMMAND_INVALID_ARGV', `input.argv[${i}]: holds a NUL character, which cannot be passed to a program`, { index: i });
    bytes += Buffer.byteLength(a, 'utf8') + 1;
  });
  if (bytes > COMMAND_INPUT_LIMITS.maxArgvBytes) {
    throw new AppError('COMMAND_TOO_LARGE', `input.argv: ${bytes} bytes is over the limit of ${COMMAND_INPUT_LIMITS.maxArgvBytes}`, { bytes, limit: COMMAND_INPUT_LIMITS.maxArgvBytes });
  }
  const program = argv[0] as string;
  if (!PROGRAM_NAME.test(program)) {
    throw new AppError('COMMAND_PROGRAM_UNKNOWN', `input.argv[0]: "${program.slice(0, 64)}" is not a program name: name a program of the target (${[...target.programs.keys()].join(', ')}), never a path`, { program: program.slice(0, 64) });
  }
  const preset = target.programs.get(program);
  if (!preset) {
    throw new AppError('COMMAND_PROGRAM_UNKNOWN', `input.argv[0]: "${program}" is not a program of this target (it runs ${[...target.programs.keys()].join(', ')})`, { program });
  }
  const out: CommandInput = { argv: argv as string[] };
  if (stdin !== undefined) {
    if (typeof stdin !== 'string') throw new AppError('VALIDATION_FAILED', 'input.stdin: must be a string');
    const n = Buffer.byteLength(stdin, 'utf8');
    if (n > target.maxStdinBytes) throw new AppError('COMMAND_TOO_LARGE', `input.stdin: ${n} bytes is over the target's limit of ${target.maxStdinBytes}`, { bytes: n, limit: target.maxStdinBytes });
    out.stdin = stdin;
  }
  if (files !== undefined) out.files = checkFiles(files, target.maxFilesBytes);
  const parsed = parseCommand(preset, out.argv.slice(1));
  if (!parsed.ok) throw new AppError(parsed.code, `input.argv: ${parsed.message}`, { flag: parsed.flag, preset: preset.name });
  return { input: out, facts: commandFactsOf(out, preset, parsed.parsed) };
}

function checkFiles(files: unknown, maxBytes: number): Record<string, string> {
  if (!isMapping(files)) throw new AppError('COMMAND_INVALID_FILE', 'input.files: must be a mapping of file name to content');
  const names = Object.keys(files);
  if (names.length > COMMAND_INPUT_LIMITS.maxFiles) throw new AppError('COMMAND_INVALID_FILE', `input.files: ${names.length} files is over the limit of ${COMMAND_INPUT_LIMITS.maxFiles}`);
  let total = 0;
  for (const name of names) {
    if (!FILE_NAME.test(name) || name === '.' || name === '..') {
      throw new AppError('COMMAND_INVALID_FILE', `input.files: "${name.slice(0, 128)}" is not a plain file name (letters, digits, . _ -, no separators, not . or ..)`, { name: name.slice(0, 128) });
    }
    const content = files[name];
    if (typeof content !== 'string') throw new AppError('COMMAND_INVALID_FILE', `input.files.${name}: the content must be a string`, { name });
    total += Buffer.byteLength(content, 'utf8');
  }
  if (total > maxBytes) throw new AppError('COMMAND_TOO_LARGE', `input.files: ${total} bytes is over the target's limit of ${maxBytes}`, { bytes: total, limit: maxBytes });
  return files as Record<string, string>;
}
