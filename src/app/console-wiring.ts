import type { FastifyInstance } from 'fastify';
import type { GatewayStore } from './store-wiring.js';
import type { Config } from '../config/schema.js';
import { consolePlugin } from '../console/console-plugin.js';
import { createConsoleOidc } from '../console/console-oidc.js';
import { createConsoleSessions } from '../console/console-sessions.js';
import { parseDuration } from '../domain/duration.js';
import type { Core } from './main.js';
import { createAuditQueryService } from '../services/audit-query-service.js';
import { createReplicaActionEvents } from '../services/replica-action-events.js';

/** The web console's route group for buildApp, when `console.enabled`; none otherwise. Wiring only. */
export function createConsole(args: { config: Config; core: Core; verifierKeys: readonly string[] }): Array<(app: FastifyInstance) => Promise<void>> {
  const c = args.config.console;
  if (!c?.enabled) return [];
  const { core } = args;
  const store: GatewayStore = core.store;
  const publicUrl = () => core.publicUrl.value;
  const deps = {
    config: c,
    // The running config's humans (a reload swaps them), read at each use.
    get humans() {
      return core.live.config().humans;
    },
    publicUrl,
    store,
    queries: core.queries,
    reviews: core.reviews,
    grants: core.tuning.grants,
    audit: createAuditQueryService({ store, log: store, queries: core.queries, readerGroups: args.config.audit.readerGroups }),
    // Live updates show changes committed on any replica, not only this one.
    events: store.watchChanges
      ? createReplicaActionEvents({
          local: core.events,
          watchChanges: store.watchChanges,
          getAction: (id) => store.getAction(id),
          onError: (e) => core.logger.warn({ err: e }, 'console live update from another replica failed'),
        })
      : core.events,
    clock: core.clock,
    oidc: createConsoleOidc(c.oidc, () => `${publicUrl()}/console/auth/callback`),
    sessions: createConsoleSessions({
      store: store.console,
      clock: core.clock,
      ttlMs: parseDuration(c.session.ttl),
      idleMs: parseDuration(c.session.idle),
      stillConfigured: (id) => core.live.config().humans.some((h) => h.id.toLowerCase() === id.toLowerCase()),
    }),
    auditorGroups: args.config.audit.readerGroups,
    verifierKeys: args.verifierKeys,
    logger: core.logger.child({ component: 'console' }),
  };
  return [
    async (app) => {
      await app.register((scope) => consolePlugin(scope, deps), { prefix: '/console' });
    },
  ];
}
