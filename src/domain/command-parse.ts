import type { FlagSpec, Preset } from './command-preset.js';

/** A command line as its program reads it, per its preset. */
export interface ParsedCommand {
  /** `scale`, `upgrade`, `apply`; for aws the operation (`attach-role-policy`). Empty when none. */
  verb: string;
  /** The sub-command of a group verb (`restart` in `kubectl rollout restart`), else empty. */
  subcommand: string;
  /** kubectl: the resource type, canonical plural (`deployments`); helm: the release; aws: the service; else the first positional. */
  resource: string;
  /** kubectl: the resource's name (`web` in `deploy/web`); else the next positional. */
  name: string;
  /** The namespace flag's value, `*` for all namespaces, empty when not given. */
  namespace: string;
  /** Flags by long name without dashes: a value, `true` for a switch, a list when repeated. */
  flags: Record<string, string | true | string[]>;
  /** Positionals after the verb (and sub-command), in order. */
  positionals: string[];
}

export type ParseFailure = { ok: false; code: 'COMMAND_UNKNOWN_FLAG' | 'COMMAND_FLAG_DENIED' | 'COMMAND_INVALID_ARGV'; flag: string; message: string };
export type ParseOutcome = { ok: true; parsed: ParsedCommand } | ParseFailure;

class Refused extends Error {
  constructor(readonly failure: ParseFailure) {
    super(failure.message);
  }
}

/**
 * Parses the arguments (argv without the program) the way the preset's program does.
 * Denied flags are refused in every spelling (`--kubeconfig x`, `--kubeconfig=x`,
 * `-s x`, grouped short flags); a strict preset refuses flags it does not know.
 */
export function parseCommand(preset: Preset, args: readonly string[]): ParseOutcome {
  try {
    return { ok: true, parsed: parse(preset, args) };
  } catch (e) {
    if (e instanceof Refused) return e.failure;
    throw e;
  }
}

function parse(preset: Preset, args: readonly string[]): ParsedCommand {
  const flags: Record<string, string | true | string[]> = Object.create(null) as Record<string, string | true | string[]>;
  const positionals: string[] = [];
  let lastNamespace: string | undefined;
  let allNamespaces = false;

  const verbFirst = preset.layout === 'verb-first';
  const verb = () => (verbFirst ? positionals[0] : positionals[1]);
  const lookup = (name: string): FlagSpec | undefined => {
    const v = verb();
    return (v !== undefined ? preset.verbFlags?.[v]?.get(name) : undefined) ?? preset.flags.get(name);
  };
  const set = (spec: FlagSpec, value: string | true) => {
    const prior = flags[spec.name];
    flags[spec.name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [String(prior)]), String(value)];
    if (spec.name === preset.namespaceFlag && typeof value === 'string') lastNamespace = value;
    if (spec.name === preset.allNamespacesFlag && value !== 'false') allNamespaces = true;
  };
  const check = (written: string, name: string): FlagSpec | undefined => {
    const why = preset.denied.get(name) ?? (lookup(name) ? undefined : deniedFlagOf(preset, name));
    if (why !== undefined) throw new Refused({ ok: false, code: 'COMMAND_FLAG_DENIED', flag: written, message: `${written}: denied by the ${preset.name} preset: ${why}` });
    const spec = lookup(name);
    if (!spec && preset.strict) {
      throw new Refused({
        ok: false,
        code: 'COMMAND_UNKNOWN_FLAG',
        flag: written,
        message: `${written}: the ${preset.name} preset does not know this flag, so it cannot tell whether it takes a value (declare it under the program's flags in the target's config)`,
      });
    }
    return spec;
  };
  const needValue = (written: string, next: string | undefined): string => {
    if (next === undefined) throw new Refused({ ok: false, code: 'COMMAND_INVALID_ARGV', flag: written, message: `${written}: needs a value` });
    return next;
  };

  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.length < 2 || a[0] !== '-' || (preset.style === 'aws' && /^-\d/.test(a))) {
      positionals.push(a);
      continue;
    }
    const long = a.startsWith('--');
    if (long || preset.style === 'goflag' || preset.style === 'generic' || preset.style === 'aws') {
      const body = a.slice(long ? 2 : 1);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const inline = eq < 0 ? undefined : body.slice(eq + 1);
      const written = `${long ? '--' : '-'}${name}`;
      const spec = check(written, name) ?? { name, arity: inline !== undefined ? 'value' : preset.style === 'aws' ? 'value' : 'switch' };
      if (spec.arity === 'value') {
        if (inline !== undefined) set(spec, inline);
        else if (preset.style === 'aws' && !lookup(name)) {
          // An aws parameter takes every following word up to the next flag (`--instance-ids i-1 i-2`).
          const values: string[] = [];
          while (i + 1 < args.length && !args[i + 1]!.startsWith('--')) values.push(args[++i]!);
          if (values.length === 0) set(spec, true);
          for (const v of values) set(spec, v);
        } else set(spec, needValue(written, args[++i]));
      } else set(spec, inline ?? true);
      continue;
    }
    // pflag short flags: `-n shop`, `-nshop`, `-n=shop`, grouped switches `-it`.
    const chars = a.slice(1);
    for (let j = 0; j < chars.length; j++) {
      const c = chars[j]!;
      const spec = check(`-${c}`, c)!;
      const rest = chars.slice(j + 1);
      if (spec.arity === 'value') {
        set(spec, rest ? (rest.startsWith('=') ? rest.slice(1) : rest) : needValue(`-${c}`, args[++i]));
        break;
      }
      if (rest.startsWith('=')) {
        set(spec, rest.slice(1));
        break;
      }
      set(spec, true);
    }
  }

  return shape(preset, positionals, flags, allNamespaces ? '*' : (lastNamespace ?? ''));
}

/** For a program nothing is known of, a single-letter denied flag also denies `-cVALUE`. */
function deniedFlagOf(preset: Preset, name: string): string | undefined {
  if (preset.style !== 'generic' || name.length < 2) return undefined;
  return preset.denied.get(name[0]!);
}

function shape(preset: Preset, positionals: string[], flags: ParsedCommand['flags'], namespace: string): ParsedCommand {
  if (preset.layout === 'service-operation') {
    return { verb: positionals[1] ?? '', subcommand: '', resource: positionals[0] ?? '', name: positionals[2] ?? '', namespace, flags, positionals: positionals.slice(2) };
  }
  const verb = positionals[0] ?? '';
  const grouped = preset.groups.has(verb);
  const subcommand = grouped ? (positionals[1] ?? '') : '';
  const rest = positionals.slice(grouped ? 2 : 1);
  let resource = rest[0] ?? '';
  let name = rest[1] ?? '';
  if (preset.resourceAliases) {
    const slash = resource.indexOf('/');
    if (slash >= 0) {
      name = resource.slice(slash + 1);
      resource = resource.slice(0, slash);
    }
    resource = resource
      .split(',')
      .map((r) => {
        const base = r.toLowerCase();
        const dot = base.indexOf('.');
        const type = dot >= 0 ? base.slice(0, dot) : base;
        return preset.resourceAliases!.get(type) ?? base;
      })
      .join(',');
  }
  return { verb, subcommand, resource, name, namespace, flags, positionals: rest };
}
