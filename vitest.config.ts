import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // e2e tests start real server processes on real ports; keep concurrency modest on 2 cores.
    maxWorkers: 2,
    // One private PostgreSQL cluster per run (test/support/pg-cluster.mjs); each file that
    // needs it creates its own database (test/support/pg-database.ts).
    // dist-global-setup.ts first: the end-to-end tests run dist/, rebuilt here when older than src/.
    // canary-global-setup.ts: after the run, no canary secret in anything the gateway produced.
    globalSetup: ['test/support/dist-global-setup.ts', 'test/support/pg-global-setup.ts', 'test/support/canary-global-setup.ts'],
  },
});
