import { defineConfig } from 'vitest/config';

// The unit tests the mutation campaign (stryker.config.mjs) runs against mutated sources:
// the tests next to the code, in process. The end-to-end tests run dist/ and would not
// see a mutant; no global setup (no PostgreSQL, no rebuild, no canary scan) is needed.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/conformance/sqlite-store.test.ts'],
    testTimeout: 30_000,
    maxWorkers: 1,
  },
});
