import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RunnersTlsConfig } from '../config/runner-tls-schema.js';
import { validators } from '../http/app.js';
import { installErrorHandler } from '../http/error-handler.js';
import type { RunnerSyncDeps } from './runner-routes.js';
import { registerRunnerSync } from './runner-routes.js';

export interface RunnerTlsListener {
  /** `https://host:port` it listens on. */
  url: string;
  close(): Promise<void>;
}

/**
 * The runners' own listener, with mutual TLS: the gateway presents its certificate and
 * asks every client for one. Certificates that do not verify against `clientCa` are not
 * refused in the handshake but at the request (rejectUnauthorized: false), so that the
 * refusal is answered in the API's error shape and audited with its reason. Serves only
 * the sync route.
 */
export async function startRunnerTlsListener(cfg: RunnersTlsConfig, base: string, deps: RunnerSyncDeps & { logger: Logger }): Promise<RunnerTlsListener> {
  const file = (p: string) => readFileSync(resolve(base, p));
  const app = Fastify({
    https: { cert: file(cfg.cert), key: file(cfg.key), ca: file(cfg.clientCa), requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    loggerInstance: deps.logger.child({ listener: 'runners' }),
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validators());
  installErrorHandler(app);
  registerRunnerSync(app, deps);
  const i = cfg.listen.lastIndexOf(':');
  const host = cfg.listen.slice(0, i).replace(/^\[|\]$/g, '');
  const address = await app.listen({ host, port: Number(cfg.listen.slice(i + 1)) });
  deps.logger.info({ url: address }, 'runner TLS listener ready');
  return {
    url: address,
    async close() {
      // Open long polls would hold the close for up to half a lease: runners poll again elsewhere, keeping their results until acknowledged.
      const force = setTimeout(() => app.server.closeAllConnections(), 1000);
      await app.close();
      clearTimeout(force);
    },
  };
}
