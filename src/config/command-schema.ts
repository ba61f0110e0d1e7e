import { z } from 'zod';
import { parseByteSize } from '../domain/byte-size.js';
import { PRESET_NAMES } from '../domain/command-preset.js';
import { isDuration } from '../domain/duration.js';
import { compileCondition } from '../domain/policy-cel.js';
import { RUNNER_ID, runnerChoice } from './runner-choice.js';
import { runnerCertificateSchema, runnersTlsSchema } from './runner-tls-schema.js';

const duration = z.string().refine(isDuration, { message: 'expected a duration such as 30s, 5m or 1h' });
const byteSize = z.union([z.string(), z.number()]).refine((v) => parseByteSize(v) !== undefined, { message: 'expected a size such as 1MiB, 512KiB or a number of bytes' });
const PROGRAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const FLAG = /^-{0,2}[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Absolute, or a bare name looked up on the target's PATH at start; never relative, never with `..`. */
const programPath = z
  .string()
  .min(1)
  .refine((p) => (p.startsWith('/') ? !p.split('/').includes('..') : PROGRAM_NAME.test(p)), {
    message: 'expected an absolute path (without ..) or a bare program name looked up on the target\'s PATH',
  });

export const commandProgramSchema = z
  .object({
    path: programPath.optional().describe('The program: an absolute path, or a bare name found on the target\'s `path` at start (resolved to its real absolute path then). Defaults to the program\'s name.'),
    preset: z.enum(PRESET_NAMES).optional().describe('How its arguments are read for policy (`cmd.verb`, `cmd.flags`...): kubectl, helm, terraform, aws or generic. Defaults to the preset named like the program, else generic.'),
    flags: z
      .record(z.string().regex(FLAG, 'expected a flag name such as --wait or -w'), z.enum(['value', 'switch', 'optional']))
      .optional()
      .describe('Flags the preset does not know, with whether they take a value (`value`), none (`switch`), or one only as `--flag=value` (`optional`).'),
    allowFlags: z.array(z.string().regex(FLAG)).optional().describe('Flags the preset denies that this target allows (e.g. `--context` when its kubeconfig holds several, all of them meant).'),
  })
  .strict();

const previewSchema = z
  .object({
    argv: z
      .array(z.string())
      .min(1)
      .describe('The preview command: `{program}` is the program, `{args}` the action\'s arguments (spliced in). E.g. `["{program}", "{args}", "--dry-run=server", "-o", "yaml"]`, or `["{program}", "plan", "-no-color"]` for terraform.'),
    when: z.string().optional().describe('A CEL condition on `cmd` (the action\'s facts): the preview runs only when it holds. Without it, for every action of the program that goes to review.'),
    timeout: duration.optional().describe('Longest the preview may run; defaults to the target\'s limits.timeout. Past it the preview is killed and shown as timed out.'),
  })
  .strict();

export const commandTargetSchema = z
  .object({
    kind: z.literal('command').describe('Programs the gateway (or a runner) runs with credentials the agent never holds: actions of kind `command` (docs/commands.md).'),
    programs: z
      .record(z.string().regex(PROGRAM_NAME, 'program names are 1-64 letters, digits, . _ + -'), commandProgramSchema)
      .refine((p) => Object.keys(p).length > 0, 'a command target runs at least one program')
      .describe('The only programs this target runs, by the name agents use as argv[0].'),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'), z.string())
      .default({})
      .describe('Environment injected into every run (credentials, as `${ENV}`): never shown to agents, never logged, redacted from output. Nothing else of the gateway\'s environment is passed.'),
    path: z.string().default('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').describe('The fixed PATH of every run (and where bare program names are looked up).'),
    cwd: z
      .string()
      .refine((p) => p.startsWith('/') && !p.split('/').includes('..'), 'expected an absolute directory without ..')
      .optional()
      .describe('Where the programs run (a terraform module, a deploy checkout). Defaults to the run\'s own fresh directory, which holds the action\'s files.'),
    preview: z.record(z.string(), previewSchema).default({}).describe('Dry runs shown to reviewers, by program name.'),
    drift: z
      .enum(['refuse', 'ignore'])
      .default('refuse')
      .describe('`refuse`: re-run the preview just before executing and fail with reason `drift` (both outputs recorded) if its output differs from what the reviewers saw. `ignore`: run without comparing.'),
    limits: z
      .object({
        timeout: duration.default('5m').describe('A run is killed (its whole process group) past this.'),
        maxOutput: byteSize.default('1MiB').describe('Bytes of stdout and of stderr kept; the rest is dropped and the result says so.'),
        maxStdin: byteSize.default('1MiB').describe('Largest stdin an action may send.'),
        maxFiles: byteSize.default('1MiB').describe('Largest total size of the files an action may send.'),
      })
      .strict()
      .default({ timeout: '5m', maxOutput: '1MiB', maxStdin: '1MiB', maxFiles: '1MiB' })
      .describe('Bounds on each run.'),
    runner: runnerChoice.describe('Who runs it: `local` (the gateway) or the id of a runner (or a list of ids; each action runs on one of them) that connects out from the target\'s network and holds the credentials (docs/commands.md).'),
    labels: z.record(z.string(), z.string()).optional().describe('Labels that policy can match on (`match.labels`).'),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const [name, p] of Object.entries(t.preview)) {
      if (!Object.hasOwn(t.programs, name)) ctx.addIssue({ code: 'custom', path: ['preview', name], message: `"${name}" is not a program of this target` });
      if (p.when !== undefined) {
        const c = compileCondition(p.when, ['command']);
        if (!c.ok) ctx.addIssue({ code: 'custom', path: ['preview', name, 'when'], message: c.message });
      }
    }
    // On a runner the credentials live on the runner: the gateway's config holds none.
    if (t.runner !== 'local' && Object.keys(t.env).length > 0) {
      ctx.addIssue({ code: 'custom', path: ['env'], message: 'a target run by a runner takes its env from the runner\'s own config; the gateway holds no credential for it' });
    }
  });

export type CommandTargetConfig = z.infer<typeof commandTargetSchema>;

const tokenHash = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 lowercase hex digits>');

export const runnersSchema = z
  .object({
    lease: duration.default('15s').describe('A runner renews its lease on every poll; past the lease without a word, it is gone and what it was running is marked interrupted (never re-run).'),
    claimTimeout: duration.default('60s').describe('How long an approved action waits for a runner of its target to take it; past that it fails (nothing ran).'),
    list: z
      .array(
        z
          .object({
            id: z.string().regex(RUNNER_ID, 'runner ids are 1-64 letters, digits, . _ -').describe('The runner\'s id, named by targets\' `runner`.'),
            token: z.string().min(16, 'tokens must be at least 16 characters').optional().describe('The runner\'s bearer token, literal or `${ENV}`. Stored and compared as a hash.'),
            tokenHash: tokenHash.optional().describe('SHA-256 of the token, `sha256:<hex>`; use instead of `token` so that the config holds no secret.'),
            certificate: runnerCertificateSchema
              .optional()
              .describe('The client certificate this runner presents on the runners\' TLS listener (`runners.tls`), signed by its `clientCa`. With a token too, the runner must present both, and both must name it.'),
          })
          .strict()
          .refine((r) => !(r.token !== undefined && r.tokenHash !== undefined), { message: 'give one of token or tokenHash, not both' })
          .refine((r) => r.token !== undefined || r.tokenHash !== undefined || r.certificate !== undefined, { message: 'give a token (or tokenHash), a certificate, or both' }),
      )
      .default([])
      .describe('Runners allowed to connect, each with its own token, client certificate, or both.'),
    tls: runnersTlsSchema.optional().describe('A listener for runners only, with mutual TLS: the gateway presents its certificate and verifies each runner\'s client certificate against `clientCa` (docs/commands.md, "Mutual TLS").'),
  })
  .strict()
  .superRefine((r, ctx) => {
    r.list.forEach((x, i) => {
      if (x.certificate && !r.tls) ctx.addIssue({ code: 'custom', path: ['list', i, 'certificate'], message: 'a runner certificate needs the runners\' TLS listener (runners.tls)' });
    });
  })
  .default({ lease: '15s', claimTimeout: '60s', list: [] })
  .describe('Runners: processes inside a target\'s network that connect out to the gateway and run its command targets (docs/commands.md).');

export type RunnersConfig = z.infer<typeof runnersSchema>;

/** Cross-checks with the rest of the config: each target's runners exist, runner ids are unique. */
export function checkRunnerRefs(
  c: { targets: Record<string, { kind: string; runner?: string | string[] }>; runners: RunnersConfig },
  addIssue: (path: PropertyKey[], message: string) => void,
): void {
  const ids = new Set<string>();
  c.runners.list.forEach((r, i) => {
    if (ids.has(r.id)) addIssue(['runners', 'list', i, 'id'], `duplicate runner id "${r.id}"`);
    ids.add(r.id);
  });
  for (const [name, t] of Object.entries(c.targets)) {
    if ((t.kind !== 'command' && t.kind !== 'postgres') || t.runner === undefined || t.runner === 'local') continue;
    for (const id of Array.isArray(t.runner) ? t.runner : [t.runner]) {
      if (!ids.has(id)) addIssue(['targets', name, 'runner'], `runner "${id}" is not in runners.list`);
    }
  }
}
