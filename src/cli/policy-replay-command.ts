import type { Command } from 'commander';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { requesterFacts, targetFacts } from '../config/config-facts.js';
import type { ActionRecord } from '../domain/action-record.js';
import { parseDuration } from '../domain/duration.js';
import { isAppError } from '../domain/errors.js';
import type { EvaluationInput } from '../domain/policy-types.js';
import type { ReplayReport } from '../domain/replay-report.js';
import { formatIssue } from '../domain/yaml-source.js';
import { replayHistory } from '../services/replay-service.js';
import { CliExit, EXIT } from './cli-runtime.js';
import { compileOrExit, loadConfigForPolicy } from './policy-inputs.js';

const print = (line = ''): void => void process.stdout.write(`${line}\n`);

interface ReplayOptions {
  config: string;
  since?: string;
  from?: string;
  to?: string;
  json?: boolean;
  failOnChange?: string;
  examples: string;
}

/** `policy replay`: what a new policy would have decided on the recorded history (docs/policy.md, "Replay"). */
export function registerPolicyReplay(program: Command): void {
  const policy = program.commands.find((c) => c.name() === 'policy');
  if (!policy) throw new Error('the policy command group is registered first');
  policy
    .command('replay')
    .description('Re-decide recorded actions under a new policy (read-only) and report the outcomes that change, by rule; exit 1 when more change than --fail-on-change allows')
    .argument('<file>', 'the new policy file (YAML)')
    .requiredOption('--config <file>', 'the gateway\'s config file: its store, groups, requester labels and target facts')
    .option('--since <duration>', 'the recorded period to replay, ending now (e.g. 30d, 12h); default 30d')
    .option('--from <time>', 'start of the period (ISO-8601), instead of --since')
    .option('--to <time>', 'end of the period (ISO-8601, exclusive); default now')
    .option('--json', 'print the report as JSON')
    .option('--fail-on-change <n>', 'exit 1 when more than n outcomes change (for CI)')
    .option('--examples <n>', 'examples per group', '3')
    .action((file: string, o: ReplayOptions) => replay(file, o));
}

function range(o: ReplayOptions): { fromMs: number; toMs: number } {
  if (o.since !== undefined && o.from !== undefined) throw new CliExit(EXIT.USAGE, 'use --since or --from, not both');
  const instant = (v: string, what: string) => {
    const ms = Date.parse(v);
    if (!Number.isFinite(ms)) throw new CliExit(EXIT.USAGE, `${what} must be an ISO-8601 time (got "${v}")`);
    return ms;
  };
  const toMs = o.to === undefined ? Date.now() : instant(o.to, '--to');
  let fromMs: number;
  if (o.from !== undefined) fromMs = instant(o.from, '--from');
  else {
    try {
      fromMs = toMs - parseDuration(o.since ?? '30d');
    } catch (e) {
      throw new CliExit(EXIT.USAGE, `--since: ${isAppError(e) ? e.message : String(e)}`);
    }
  }
  if (fromMs >= toMs) throw new CliExit(EXIT.USAGE, 'the period is empty: --from must be before --to');
  return { fromMs, toMs };
}

async function replay(file: string, o: ReplayOptions): Promise<void> {
  const failOnChange = o.failOnChange === undefined ? undefined : Number(o.failOnChange);
  if (failOnChange !== undefined && (!Number.isSafeInteger(failOnChange) || failOnChange < 0)) throw new CliExit(EXIT.USAGE, '--fail-on-change must be an integer >= 0');
  const examples = Number(o.examples);
  if (!Number.isSafeInteger(examples) || examples < 0) throw new CliExit(EXIT.USAGE, '--examples must be an integer >= 0');
  const { fromMs, toMs } = range(o);
  const config = loadConfigForPolicy(o.config)!;
  // The policy first: a broken one ends here, before the store is opened.
  const { policy, warnings } = compileOrExit(file, config);
  for (const w of warnings) process.stderr.write(`warning: ${formatIssue(w)}\n`);
  const store = createSqliteStore({ path: config.storePath, readOnly: true });
  const inputOf = (a: ActionRecord): Omit<EvaluationInput, 'history'> => ({
    action: { kind: a.kind, target: a.target, input: a.input, justification: a.justification, context: a.context, onBehalfOf: a.onBehalfOf, mode: a.mode },
    requester: requesterFacts(config.config, a.requester.id) ?? { id: a.requester.id, type: a.requester.type, owner: a.requester.owner, labels: {} },
    target: targetFacts(config.config, a.target) ?? { name: a.target, kind: a.kind, labels: {} },
    hints: a.facts?.sql ? { sql: a.facts.sql } : undefined,
  });
  const bar = process.stderr.isTTY ? progressBar() : undefined;
  let report: ReplayReport;
  try {
    report = await replayHistory({ store, policy, inputOf, fromMs, toMs, examplesPerGroup: examples, ...(bar ? { onProgress: bar } : {}) });
  } finally {
    if (bar) process.stderr.write('\n');
    await store.close();
  }
  const period = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
  if (o.json) print(JSON.stringify({ policy: { file, version: policy.version }, period, ...report }, null, 2));
  else printReport(file, policy.version, period, report);
  if (failOnChange !== undefined && report.changed > failOnChange) {
    throw new CliExit(EXIT.FAILURE, `${report.changed} outcome${report.changed === 1 ? '' : 's'} would change, more than --fail-on-change ${failOnChange} allows`);
  }
}

function printReport(file: string, version: string, period: { from: string; to: string }, r: ReplayReport): void {
  print(`Replayed ${r.total} action${r.total === 1 ? '' : 's'} from ${period.from} to ${period.to} under ${file} (${version.slice(0, 19)}…)`);
  print(`${r.changed} outcome${r.changed === 1 ? '' : 's'} would change${r.changed ? `: ${Object.entries(r.transitions).map(([t, n]) => `${n} ${t}`).join(', ')}` : ''}`);
  for (const g of r.groups) {
    print();
    print(`${g.from} → ${g.to}: ${g.count}  (rule${g.rules.length === 1 ? '' : 's'} ${g.rules.join(', ')})`);
    for (const e of g.examples) print(`  ${e.id}  ${e.createdAt}  ${e.requester} ${e.kind} ${e.target}: ${e.now.reason}`);
  }
  const shadow = Object.entries(r.shadow);
  if (shadow.length) {
    print();
    for (const [rule, s] of shadow) print(`shadow rule ${rule}: fired ${s.fired} time${s.fired === 1 ? '' : 's'}, would change ${s.disagreements} outcome${s.disagreements === 1 ? '' : 's'}`);
  }
}

/** `[#####.....]  45%  450000/1000000` on stderr, redrawn at most every 100 ms. */
function progressBar(): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const ratio = total ? Math.min(1, done / total) : 1;
    const width = 30;
    const filled = Math.round(ratio * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${done}/${total} actions`);
  };
}
