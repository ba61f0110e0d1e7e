import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DemoIdentities {
  agentToken: string;
  aliceToken: string;
  bobToken: string;
  carolToken: string;
  targetToken: string;
}

export function demoIdentities(): DemoIdentities {
  const t = () => randomBytes(24).toString('base64url');
  return { agentToken: t(), aliceToken: t(), bobToken: t(), carolToken: t(), targetToken: t() };
}

export const DEMO_POLICY = `# The demo policy: reads flow, releases need two release managers, database writes need
# the on-call engineer, deletes and drops never happen.
default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: reads
    match: { kind: http, target: "git*" }
    when: http.method in ["GET", "HEAD"]
    outcome: allow
  - id: releases
    match: { kind: http, target: github }
    when: http.method == "POST" && http.path.matches("^/repos/[^/]+/[^/]+/releases$")
    outcome: review
    reason: Publishing a release is visible to every customer
    review: { approvers: [group:release], quorum: 2, timeout: 30m, escalate: { after: 10m, to: [group:oncall] } }
  - id: no-deletes
    match: { kind: http }
    when: http.method == "DELETE"
    outcome: deny
    reason: Agents never delete through the API
  - id: db-reads
    match: { kind: sql, target: shop-db }
    when: sql.readOnly
    outcome: allow
  - id: db-writes
    match: { kind: sql, target: shop-db }
    when: "!sql.readOnly"
    outcome: review
    reason: Changing customer data needs the on-call engineer
    review: { approvers: [group:oncall], quorum: 1, timeout: 15m }
  - id: no-drops
    match: { kind: sql }
    when: sql.types.exists(t, t.startsWith("drop_"))
    outcome: deny
    reason: Agents never drop objects
`;

/** Writes the demo's config and policy; tokens and the database URL come from the environment, as in production. */
export function writeDemoFiles(dir: string, targetUrl: string, dbPoolSize = 5): { configPath: string; policyPath: string } {
  const policyPath = join(dir, 'policy.yaml');
  const configPath = join(dir, 'countersign.yaml');
  writeFileSync(policyPath, DEMO_POLICY);
  writeFileSync(
    configPath,
    `listen: 127.0.0.1:0
store: { sqlite: ./countersign.db }
policy: ./policy.yaml
agents:
  - { id: deploy-bot, token: "\${DEMO_AGENT_TOKEN}", owner: carol@example.com }
humans:
  - { id: alice@example.com, groups: [release], token: "\${DEMO_ALICE_TOKEN}" }
  - { id: bob@example.com, groups: [release, oncall], token: "\${DEMO_BOB_TOKEN}" }
  - { id: carol@example.com, groups: [release, oncall], token: "\${DEMO_CAROL_TOKEN}" }
targets:
  github: { kind: http, baseUrl: "${targetUrl}", headers: { Authorization: "Bearer \${DEMO_GITHUB_TOKEN}" } }
  shop-db:
    kind: postgres
    url: "\${DEMO_SHOP_DB_URL}"
    preview: { enabled: true, mode: rollback, sampleRows: 3 }
    poolSize: ${dbPoolSize}
    mask: [ "customers.email" ]
scheduler: { intervalMs: 500 }
log: { level: warn }
`,
  );
  return { configPath, policyPath };
}

export function demoEnv(ids: DemoIdentities, databaseUrl: string): NodeJS.ProcessEnv {
  return {
    DEMO_SHOP_DB_URL: databaseUrl,
    DEMO_AGENT_TOKEN: ids.agentToken,
    DEMO_ALICE_TOKEN: ids.aliceToken,
    DEMO_BOB_TOKEN: ids.bobToken,
    DEMO_CAROL_TOKEN: ids.carolToken,
    DEMO_GITHUB_TOKEN: ids.targetToken,
  };
}
