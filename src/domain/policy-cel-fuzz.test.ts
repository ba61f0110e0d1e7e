import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyTextMutations, textMutations } from '../../test/support/text-mutations.js';
import { compilePolicy, PolicyError } from './policy-compile.js';
import type { EvaluationInput } from './policy-types.js';

// Mutated CEL conditions (`when:`), compiled as a policy and evaluated on random HTTP
// actions. Properties: compiling either succeeds or throws PolicyError with every problem
// at a line and column of the file; evaluating never throws and always decides; and a
// condition that errors or yields a non-boolean never lets its rule allow (fail closed).
// The whole-file mutations of `policy check` are in test/e2e/cli-files-fuzz.test.ts.

const CONDITIONS = [
  'http.method in ["GET", "HEAD"]',
  'http.method == "POST" && http.path.matches("^/repos/[^/]+/[^/]+/releases$")',
  'http.path.startsWith("/quick") || size(http.query) > 2',
  'has(http.body.amount) && http.body.amount > 100',
  'http.headers["x-env"] == "prod"',
  'requester.labels.team == "payments" && target.labels.env != "prod"',
  'action.justification.contains("incident")',
  '!(http.method in ["DELETE"]) && http.path.size() < 200',
  'http.body.items.exists(i, i.price > 1000)',
  'int(http.query.limit) <= 50',
  'timestamp("2026-01-01T00:00:00Z") < timestamp("2027-01-01T00:00:00Z")',
];

const RULE_OUTCOMES = ['allow', 'deny', 'review'] as const;

const policyText = (when: string, outcome: (typeof RULE_OUTCOMES)[number]) => `default: { outcome: deny }
rules:
  - id: r
    match: { kind: http }
    when: '${when.replaceAll("'", "''")}'
    outcome: ${outcome}
${outcome === 'review' ? '    review: { approvers: [group:oncall], quorum: 1, timeout: 15m }\n' : ''}`;

const json = fc.jsonValue({ maxDepth: 3 });
const action = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'get', ''),
  path: fc.oneof(fc.constantFrom('/', '/repos/a/b/releases', '/quick', 'x'.repeat(300)), fc.string({ maxLength: 20 })),
  query: fc.dictionary(fc.constantFrom('limit', 'x'), fc.oneof(fc.string({ maxLength: 5 }), fc.constant('12'))),
  headers: fc.dictionary(fc.constantFrom('x-env', 'accept'), fc.string({ maxLength: 5 })),
  body: json,
  justification: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
});

type Action = typeof action extends fc.Arbitrary<infer T> ? T : never;

const inputOf = (a: Action): EvaluationInput => ({
  action: { kind: 'http', target: 'github', input: { method: a.method, path: a.path, query: a.query, headers: a.headers, body: a.body }, mode: 'execute', ...(a.justification === undefined ? {} : { justification: a.justification }) },
  requester: { id: 'deploy-bot', type: 'agent', owner: 'alice@example.com', labels: { team: 'payments' } },
  target: { name: 'github', kind: 'http', host: 'api.github.com', labels: { env: 'prod' } },
});

describe('CEL conditions under fuzzing', () => {
  it('compile or fail with positions; evaluation always decides, and an erring condition never allows', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CONDITIONS), textMutations, fc.constantFrom(...RULE_OUTCOMES), fc.array(action, { minLength: 1, maxLength: 4 }), (base, ms, outcome, actions) => {
        const when = applyTextMutations(Buffer.from(base), ms).toString('utf8');
        const text = policyText(when, outcome);
        let policy;
        try {
          policy = compilePolicy(text, 'policy.yaml', { groupExists: () => true }).policy;
        } catch (e) {
          expect(e, String(e)).toBeInstanceOf(PolicyError);
          const issues = (e as PolicyError).issues;
          expect(issues.length).toBeGreaterThan(0);
          for (const i of issues) {
            expect(i.line, JSON.stringify(i)).toBeGreaterThan(0);
            expect(i.column, JSON.stringify(i)).toBeGreaterThan(0);
          }
          return;
        }
        for (const a of actions) {
          const trace = policy.explain(inputOf(a));
          expect(['allow', 'deny', 'review']).toContain(trace.decision.outcome);
          expect(policy.evaluate(inputOf(a)).outcome).toBe(trace.decision.outcome);
          const r = trace.rules[0]!;
          if (trace.decision.outcome === 'allow') {
            // Only an allow rule whose condition held, as a boolean true, without error.
            expect(outcome).toBe('allow');
            expect(r.condition, when).toMatchObject({ value: true });
            expect(r.condition, when).not.toHaveProperty('error');
          }
        }
      }),
      { numRuns: Number(process.env.COUNTERSIGN_FUZZ_RUNS ?? 300), ...(process.env.COUNTERSIGN_FUZZ_SEED ? { seed: Number(process.env.COUNTERSIGN_FUZZ_SEED) } : {}) },
    );
  });
});
