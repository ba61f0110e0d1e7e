import { readFileSync } from 'node:fs';
import { Agent } from 'undici';

/**
 * The runner's side of mutual TLS: it presents its client certificate and verifies the
 * gateway's against `ca` (or the system's CAs), with the usual host name check.
 */
export function runnerTlsAgent(o: { cert?: string | undefined; key?: string | undefined; ca?: string | undefined }): Agent {
  return new Agent({
    connect: {
      ...(o.cert ? { cert: readFileSync(o.cert) } : {}),
      ...(o.key ? { key: readFileSync(o.key) } : {}),
      ...(o.ca ? { ca: readFileSync(o.ca) } : {}),
      rejectUnauthorized: true,
    },
  });
}
