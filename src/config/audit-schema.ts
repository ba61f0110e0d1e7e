import { z } from 'zod';
import { isDuration } from '../domain/duration.js';
import { isKeyName, parseSignerKey, parseVerifierKey } from '../domain/signed-note.js';
import { isHttpUrl } from './url-protocol.js';

/** The `audit` section: who reads the log, how it is signed, witnessed and streamed out. */

/** Beside the config, not beside the database (its default folder is ./data). */
export const DEFAULT_SIGNING_KEY_FILE = './keys/audit-signing.key';

const duration = z.string().refine(isDuration, { message: 'expected a duration such as 45s, 15m or 2h' });
const parses = (parse: (s: string) => unknown) => (s: string) => {
  try {
    parse(s);
    return true;
  } catch {
    return false;
  }
};
const verifierKey = z.string().refine(parses(parseVerifierKey), { message: 'expected a verifier key <name>+<8 hex digits>+<base64>' });

export const witnessSchema = z
  .object({
    directory: z
      .string()
      .min(1)
      .optional()
      .describe('A folder outside the database (another disk, a mounted bucket, a synced share) that receives a copy of every checkpoint. Relative paths resolve against the config file.'),
    url: z
      .string()
      .url()
      .refine(isHttpUrl, 'http or https')
      .optional()
      .describe('A C2SP tlog-witness `add-checkpoint` URL: each new checkpoint is sent with a consistency proof from the last one the witness saw.'),
    key: verifierKey
      .optional()
      .describe('The HTTP witness\'s cosignature verifier key (tlog-cosignature, type 0x04). When set, its cosignatures are verified and kept with the checkpoint.'),
    timeout: duration.default('10s').describe('HTTP request timeout.'),
  })
  .strict()
  .refine((w) => (w.directory === undefined) !== (w.url === undefined), { message: 'give exactly one of directory or url' })
  .refine((w) => w.key === undefined || w.url !== undefined, { message: 'key is for url witnesses' });

export const siemSinkSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).describe('Names the sink and its delivery cursor: renaming it starts over from entry 0.'),
    format: z.enum(['ocsf', 'cloudevents']).describe('OCSF 1.8 API Activity (class 6003, security_control profile) or CloudEvents 1.0 (structured JSON).'),
    file: z.string().min(1).optional().describe('Append one event per line to this file (JSONL). Relative paths resolve against the config file.'),
    url: z.string().url().optional().describe('POST batches to this URL (a JSON array; CloudEvents as `application/cloudevents-batch+json`).'),
    headers: z.record(z.string(), z.string()).default({}).describe('Headers sent with each POST (credentials as `${ENV}`).'),
    batchSize: z.number().int().min(1).max(1000).default(100).describe('Most events per write or POST.'),
    timeout: duration.default('10s').describe('Request timeout.'),
  })
  .strict()
  .refine((s) => (s.file === undefined) !== (s.url === undefined), { message: 'give exactly one of file or url' });

const auditObject = z
  .object({
    readerGroups: z.array(z.string()).default(['auditor']).describe('Members of these groups may read every action and the audit log (entries, proofs, checkpoints).'),
    origin: z
      .string()
      .refine(isKeyName, { message: 'an origin has no spaces or plus signs' })
      .optional()
      .describe('The log\'s name in its checkpoints and the signing key\'s name, e.g. `countersign.example.com/audit`. Defaults to `<host>/countersign/audit` when the key is generated.'),
    signingKey: z
      .string()
      .refine(parses(parseSignerKey), { message: 'expected PRIVATE+KEY+<name>+<key id>+<base64>' })
      .optional()
      .describe('The checkpoint signing key (`PRIVATE+KEY+...`), usually `${ENV}`. Without it, the key is read from `signingKeyFile`, generated there on first start.'),
    signingKeyFile: z
      .string()
      .min(1)
      .default(DEFAULT_SIGNING_KEY_FILE)
      .describe(
        'Where the signing key lives when `signingKey` is not set; created on first start (mode 0600, in a folder of mode 0700), and refused if others may read it. Relative paths resolve against the config file. Keep it out of the database\'s folder (a warning says so): backups of one must not carry the other. A key found at the old default `./data/audit-signing.key` is still used, with a warning to move it.',
      ),
    verifierKeys: z.array(verifierKey).default([]).describe('Further trusted checkpoint keys (`<name>+<id>+<base64>`), for example the key used before a rotation.'),
    checkpoints: z
      .object({
        enabled: z.boolean().default(true).describe('Sign checkpoints in this process.'),
        maxEntries: z.number().int().min(1).max(10_000_000).default(10_000).describe('Sign as soon as this many entries are not covered by a checkpoint.'),
        maxDelay: duration.default('10s').describe('No entry waits longer than this for a signed checkpoint.'),
      })
      .strict()
      .default({ enabled: true, maxEntries: 10_000, maxDelay: '10s' })
      .describe('Signed checkpoints (C2SP tlog-checkpoint, Ed25519), every N entries or T seconds.'),
    witnesses: z.array(witnessSchema).default([]).describe('Places outside the database each new checkpoint is pushed to, so that rewriting the whole database is detectable.'),
    siem: z.array(siemSinkSchema).default([]).describe('Streams of the audit log to a SIEM, resumable, never blocking the gate.'),
  })
  .strict();

export const auditConfigSchema = auditObject.default(() => auditObject.parse({})).describe('The audit log: who may read it, how it is signed, witnessed and exported.');

export type AuditConfig = z.infer<typeof auditConfigSchema>;
export type WitnessConfig = z.infer<typeof witnessSchema>;
export type SiemSinkConfig = z.infer<typeof siemSinkSchema>;
