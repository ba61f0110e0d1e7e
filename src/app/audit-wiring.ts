import { dirname, isAbsolute, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LoadedSigningKey } from '../adapters/audit/signing-key.js';
import { defaultOrigin, loadSigningKey } from '../adapters/audit/signing-key.js';
import { createHttpSink } from '../adapters/siem/http-sink.js';
import { createJsonlSink } from '../adapters/siem/jsonl-sink.js';
import { createDirectoryWitness } from '../adapters/witness/directory-witness.js';
import { createHttpWitness } from '../adapters/witness/http-witness.js';
import type { LoadedConfig } from '../config/load.js';
import { parseDuration } from '../domain/duration.js';
import type { VerifierKey } from '../domain/signed-note.js';
import { parseVerifierKey } from '../domain/signed-note.js';
import { registerAuditRoutes } from '../http/audit-routes.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { Witness } from '../ports/witness.js';
import { signingKeyLocation } from './signing-key-location.js';
import { createAuditQueryService } from '../services/audit-query-service.js';
import { createCheckpointService } from '../services/checkpoint-service.js';
import type { QueryService } from '../services/query-service.js';
import { createSiemService } from '../services/siem-service.js';
import { createWitnessService } from '../services/witness-service.js';

/** The verifiable audit log's moving parts in a gateway process (wired from main.ts). */
export interface AuditGateway {
  signing: LoadedSigningKey;
  /** Route group for buildApp's `plugins`. */
  routes(app: FastifyInstance): void;
  /** One round of checkpoint, witnesses and SIEM delivery (also run by the timer). */
  tick(force?: boolean): Promise<void>;
  /** Stops the timer; signs a last checkpoint over everything written. */
  close(): Promise<void>;
}

/** Paths in the audit section resolve against the config file's folder. */
export function auditPaths(loaded: LoadedConfig) {
  const dir = dirname(loaded.file);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const key = signingKeyLocation(loaded.config.audit.signingKeyFile, abs, loaded.storePath);
  return { abs, keyFile: key.file, keyWarning: key.warning };
}

/** The checkpoint signing key from the config, its file, or generated into the file on first start. */
export function signingKeyOf(loaded: LoadedConfig, create: boolean): LoadedSigningKey {
  const a = loaded.config.audit;
  return loadSigningKey({ text: a.signingKey, file: auditPaths(loaded).keyFile, origin: a.origin, create }, () => defaultOrigin(loaded.config.publicUrl));
}

/** Keys a checkpoint of this log may be signed with: the signer's and `audit.verifierKeys`. */
export function trustedKeys(loaded: LoadedConfig, signer?: VerifierKey): VerifierKey[] {
  const extra = loaded.config.audit.verifierKeys.map(parseVerifierKey);
  return signer ? [signer, ...extra.filter((k) => k.text !== signer.text)] : extra;
}

/** The store cursor whose lease names the replica that signs checkpoints. */
export const SIGNER_LEASE = 'lease:checkpoint-signer';
/** Shortest signer lease: a dead signer's successor signs within this (plus one tick). */
const SIGNER_LEASE_MS = 3000;

export function startAuditLog(args: {
  loaded: LoadedConfig;
  store: Store & AuditLog;
  queries: QueryService;
  authenticator: Authenticator;
  clock: Clock;
  logger: Logger;
  instance: string;
  version: string;
}): AuditGateway {
  const { loaded, store, clock, logger } = args;
  const a = loaded.config.audit;
  const { abs } = auditPaths(loaded);
  const signing = signingKeyOf(loaded, true);
  const signer = signing.signer;
  const keyWarning = signing.source === 'file' ? auditPaths(loaded).keyWarning : undefined;
  if (keyWarning) logger.warn(keyWarning);
  if (signing.created) logger.warn({ file: auditPaths(loaded).keyFile, verifierKey: signer.verifier.text }, 'generated the audit log signing key; publish its verifier key to auditors');

  const maxDelayMs = parseDuration(a.checkpoints.maxDelay);
  const tickMs = Math.max(100, Math.min(1000, Math.floor(maxDelayMs / 4)));
  const checkpoints = createCheckpointService({
    log: store,
    store,
    signer,
    trusted: trustedKeys(loaded, signer.verifier),
    clock,
    maxEntries: a.checkpoints.maxEntries,
    maxDelayMs,
    slackMs: tickMs * 2,
  });
  const forced = createCheckpointService({ log: store, store, signer, trusted: trustedKeys(loaded, signer.verifier), clock, maxEntries: 1, maxDelayMs: 0, slackMs: 0 });

  // Errors are logged once a minute per kind, not once a tick.
  const lastLogged = new Map<string, number>();
  const logError = (what: string, e: unknown, extra: Record<string, unknown> = {}) => {
    const key = `${what}:${e instanceof Error ? e.message : String(e)}`;
    const now = Date.now();
    if ((lastLogged.get(key) ?? 0) > now - 60_000) return;
    lastLogged.set(key, now);
    logger.error({ err: e, ...extra }, what);
  };

  const witnesses: Witness[] = a.witnesses.map((w) =>
    w.directory !== undefined
      ? createDirectoryWitness(abs(w.directory))
      : createHttpWitness({ url: w.url!, key: w.key ? parseVerifierKey(w.key) : undefined, timeoutMs: parseDuration(w.timeout) }),
  );
  const witnessing = createWitnessService({ log: store, witnesses, origin: signer.name, clock, instance: args.instance, onError: (e, witness) => logError('audit witness push failed', e, { witness }) });

  const siem = createSiemService({
    store,
    log: store,
    sinks: a.siem.map((s) => ({
      sink: s.file !== undefined ? createJsonlSink(s.name, abs(s.file)) : createHttpSink({ name: s.name, url: s.url!, format: s.format, headers: s.headers, timeoutMs: parseDuration(s.timeout) }),
      format: s.format,
      batchSize: s.batchSize,
    })),
    context: { origin: signer.name, version: args.version },
    clock,
    instance: args.instance,
    onError: (e, sink) => logError('audit SIEM delivery failed', e, { sink }),
  });

  const audit = createAuditQueryService({ store, log: store, queries: args.queries, readerGroups: a.readerGroups });

  // One replica at a time signs (a lease in the store, taken over within SIGNER_LEASE_MS
  // of its holder's death); the compare-and-swap in addCheckpoint still guarantees one
  // checkpoint per size if two ever sign at once (a forced round at shutdown).
  const signerLeaseMs = Math.max(SIGNER_LEASE_MS, tickMs * 5);
  async function holdsSignerLease(): Promise<boolean> {
    const now = clock.now().getTime();
    return (await store.claimCursor(SIGNER_LEASE, args.instance, now, now + signerLeaseMs)) !== undefined;
  }

  let running: Promise<void> | undefined;
  async function round(force: boolean): Promise<void> {
    if (a.checkpoints.enabled && (force || (await holdsSignerLease().catch(() => false)))) {
      try {
        const cp = await (force ? forced : checkpoints).tick();
        if (cp) logger.debug({ size: cp.size }, 'audit checkpoint signed');
      } catch (e) {
        logError('audit checkpoint not signed', e);
      }
    }
    await witnessing.tick();
    await siem.tick();
  }
  const tick = (force = false): Promise<void> => {
    if (running) return force ? running.then(() => tick(true)) : running;
    running = round(force).finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void tick(), tickMs);
  timer.unref();

  return {
    signing,
    routes: (app) => registerAuditRoutes(app, { authenticator: args.authenticator, audit }),
    tick,
    async close() {
      clearInterval(timer);
      await tick(true);
    },
  };
}
