import type { CommandFacts } from './command-facts.js';
import type { CommandPreview } from './command-preview.js';
import { safeBlock, safeLine } from './visible-text.js';

/**
 * What a review card shows of a `command` action on every surface (API, CLI, Slack,
 * Teams, webhooks): a one-line summary from the preset's facts, the exact argv, the
 * stdin and files it sends, the facts policy saw, and the dry run's output with its
 * hash. Everything from the agent or the program is made visible-safe here.
 */

const MAX_OUTPUT_LINES = 60;

/** Shell-quoted argv: readable, and exact (every argument boundary is visible). */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** `kubectl scale deployments/web in shop on prod-k8s` */
export function commandSummary(target: string, facts: CommandFacts | undefined, input: Record<string, unknown>): string {
  if (!facts) {
    const argv = Array.isArray(input.argv) ? input.argv.filter((a): a is string => typeof a === 'string') : [];
    return safeLine(`${argv[0] ?? 'command'} on ${target}`);
  }
  const what = [facts.verb, facts.subcommand, facts.resource && facts.name ? `${facts.resource}/${facts.name}` : facts.resource || facts.name].filter(Boolean).join(' ');
  const ns = facts.namespace === '*' ? ' in every namespace' : facts.namespace ? ` in ${facts.namespace}` : '';
  return safeLine(`${facts.program}${what ? ` ${what}` : ''}${ns} on ${target}`);
}

export function commandLineText(input: Record<string, unknown>): string {
  const argv = Array.isArray(input.argv) ? input.argv.filter((a): a is string => typeof a === 'string') : [];
  return safeBlock(shellQuote(argv));
}

/** What the command sends besides its argv: stdin and files, with their content. */
export function commandInputLines(input: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof input.stdin === 'string') out.push(`stdin (${Buffer.byteLength(input.stdin, 'utf8')} bytes):`, input.stdin);
  const files = typeof input.files === 'object' && input.files !== null ? (input.files as Record<string, unknown>) : {};
  for (const [name, content] of Object.entries(files)) {
    out.push(`file ${name} (${typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : 0} bytes):`, typeof content === 'string' ? content : '');
  }
  return out.map(safeBlock);
}

export function commandFactLines(f: CommandFacts): string[] {
  const flags = Object.entries(f.flags).map(([k, v]) => (v === true ? k : `${k}=${Array.isArray(v) ? v.join(',') : v}`));
  const lines = [`program: ${f.program} (preset ${f.preset})`, `verb: ${[f.verb, f.subcommand].filter(Boolean).join(' ') || '(none)'}`];
  if (f.resource) lines.push(`resource: ${f.resource}${f.name ? ` ${f.name}` : ''}`);
  lines.push(`namespace: ${f.namespace === '*' ? 'ALL NAMESPACES' : f.namespace || '(not given)'}`);
  if (flags.length) lines.push(`flags: ${flags.join(' ')}`);
  if (f.stdin || f.files.length) lines.push(`sends: ${[f.stdin ? 'stdin' : '', ...f.files].filter(Boolean).join(', ')}`);
  return lines.map(safeLine);
}

/** The dry run, for a human: how it went, its output hash, then its output. */
export function commandPreviewLines(p: CommandPreview): string[] {
  const head = `preview ${p.status}${p.exitCode !== null ? ` (exit ${p.exitCode})` : ''}${p.reason ? `: ${p.reason}` : ''}, ${p.tookMs} ms`;
  const lines = [safeLine(head), safeLine(`ran: ${shellQuote(p.argv)}`), `output ${p.outputHash}${p.truncated ? ' (output cut at the target\'s maxOutput)' : ''}`];
  const body = (label: string, text: string) => {
    if (!text) return;
    const all = text.split('\n');
    lines.push(`${label}:`, ...all.slice(0, MAX_OUTPUT_LINES).map((l) => safeLine(l)));
    if (all.length > MAX_OUTPUT_LINES) lines.push(`… ${all.length - MAX_OUTPUT_LINES} more line(s) (the API has the whole output)`);
  };
  body('stdout', p.stdout);
  body('stderr', p.stderr);
  return lines;
}
