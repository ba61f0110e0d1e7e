// The mutation campaign (docs/reliability.md): `npm run campaign:mutation` mutates the
// safety-critical files one small change at a time and runs their unit tests; a mutant
// no test notices is either a missing test or an equivalent change (explained in a
// comment at the line). CPU heavy: run it on a few files at a time with
// `npm run campaign:mutation -- --mutate src/services/mutate.ts`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.mjs' },
  plugins: ['@stryker-mutator/vitest-runner'],
  checkers: [],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 30_000,
  // On a busy machine the first run of every test (with coverage) can take minutes.
  dryRunTimeoutMinutes: 30,
  mutate: [
    // compare-and-swap paths and at-most-once execution
    'src/services/mutate.ts',
    'src/services/execution-service.ts',
    'src/services/review-service.ts',
    'src/services/scheduler-service.ts',
    // separation of duties, quorum, lifecycle transitions, fingerprints
    'src/domain/review.ts',
    'src/domain/lifecycle.ts',
    'src/domain/action.ts',
    'src/domain/canonical-json.ts',
    // executors' checks (what an HTTP action may send, before the executor sends it)
    'src/domain/http-request-check.ts',
    'src/domain/http-input-validate.ts',
    // redaction
    'src/domain/redact.ts',
    'src/domain/redact-secrets.ts',
    // signatures and tokens
    'src/adapters/channels/slack/slack-signature.ts',
    'src/adapters/channels/teams/teams-jwt.ts',
    'src/adapters/channels/webhook/webhook-sign.ts',
    'src/adapters/identity/token-authenticator.ts',
    'src/domain/signed-note.ts',
    // the audit verifier
    'src/domain/merkle.ts',
    'src/domain/audit-integrity.ts',
    'src/domain/audit-governance.ts',
  ],
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
