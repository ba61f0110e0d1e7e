import { defineConfig } from 'vitest/config';

// The unit tests the mutation campaign (stryker.config.mjs) runs against mutated sources:
// the tests next to the code, in process. The end-to-end tests run dist/ and would not
// see a mutant; no global setup (no PostgreSQL, no rebuild, no canary scan) is needed.
// MUTATION_TESTS=a.test.ts,b.test.ts runs only those files: a file whose code many tests
// reach (merkle.ts) runs each of its static mutants against all of them otherwise. A
// narrowed run's score is a lower bound (a test left out might kill a survivor).
const only = process.env.MUTATION_TESTS?.split(',').filter(Boolean);

export default defineConfig({
  test: {
    // The tests of the mutated files (stryker.config.mjs); a smaller dry run than the whole suite.
    include: only ?? [
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
