import { z } from 'zod';

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/** Which client certificate is a runner's: its subject's common name, its SHA-256 fingerprint, or both (all given must match). */
export const runnerCertificateSchema = z
  .object({
    commonName: z.string().min(1).max(255).optional().describe('The certificate\'s subject CN, exactly (e.g. `runner-dc1`).'),
    fingerprint: z
      .string()
      .regex(/^sha256:(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'expected sha256: and 32 hex bytes, with or without colons')
      .optional()
      .describe('The certificate\'s SHA-256 fingerprint, `sha256:AB:CD:...` (as `openssl x509 -noout -fingerprint -sha256` prints it) or without colons: pins one certificate.'),
  })
  .strict()
  .refine((c) => c.commonName !== undefined || c.fingerprint !== undefined, { message: 'give commonName, fingerprint, or both' });

export type RunnerCertificateConfig = z.infer<typeof runnerCertificateSchema>;

export const runnersTlsSchema = z
  .object({
    listen: z.string().regex(HOST_PORT, 'expected host:port').describe('Where runners connect, `host:port` (port 0: any free port, for tests). Only `POST /v1/runner/sync` is served there.'),
    cert: z.string().min(1).describe('The gateway\'s PEM certificate (chain) file for this listener; relative paths resolve against the config file.'),
    key: z.string().min(1).describe('Its PEM private key file.'),
    clientCa: z.string().min(1).describe('PEM bundle of the CAs that sign runners\' client certificates: a certificate they did not sign is refused (and audited as runner.refused).'),
  })
  .strict();

export type RunnersTlsConfig = z.infer<typeof runnersTlsSchema>;
