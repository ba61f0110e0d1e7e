import { defineConfig } from 'vitest/config';

// The unit tests the mutation campaign (stryker.config.mjs) runs against mutated sources:
// the tests next to the code, in process. The end-to-end tests run dist/ and would not
// see a mutant; no global setup (no PostgreSQL, no rebuild, no canary scan) is needed.
export default defineConfig({
  test: {
    // The tests of the mutated files (stryker.config.mjs); a smaller dry run than the whole suite.
    include: [
      'src/services/**/*.test.ts',
      'src/domain/{action,review,lifecycle,canonical-json,http-request-check,http-input-validate,redact,redact-secrets,signed-note,merkle,audit-integrity,audit-governance,audit-coverage,receipt}*.test.ts',
      'src/adapters/channels/**/*.test.ts',
      'src/adapters/identity/*.test.ts',
      'test/conformance/sqlite-store.test.ts',
    ],
    testTimeout: 30_000,
    maxWorkers: 1,
  },
});
