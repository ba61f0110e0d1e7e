import { z } from 'zod';
import { configSchema } from './schema.js';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.oneOf ?? s.anyOf) return (s.oneOf ?? s.anyOf)!.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) return `map of ${typeOf(s.additionalProperties)}`;
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

function rows(s: JsonSchema, prefix: string, out: string[]): void {
  const walk = (child: JsonSchema, path: string, required: boolean) => {
    const def = child.default !== undefined ? `\`${JSON.stringify(child.default)}\`` : required ? '**required**' : '';
    out.push(`| \`${path}\` | ${typeOf(child)} | ${def} | ${(child.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
    rows(child, path, out);
  };
  for (const [k, child] of Object.entries(s.properties ?? {})) walk(child, prefix ? `${prefix}.${k}` : k, s.required?.includes(k) ?? false);
  if (s.type === 'array' && s.items?.properties) rows(s.items, `${prefix}[]`, out);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const ap = s.additionalProperties;
    if (ap.properties) rows(ap, `${prefix}.<name>`, out);
    for (const variant of ap.oneOf ?? ap.anyOf ?? []) rows(variant, `${prefix}.<name>`, out);
  }
  for (const variant of s.oneOf ?? []) if (variant.properties) rows(variant, prefix, out);
}

/** docs/configuration.md, generated from the one config schema (npm run docs:config). */
export function configReferenceMarkdown(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: string[] = [];
  rows(schema, '', out);
  const seen = new Set<string>();
  const unique = out.filter((r) => (seen.has(r) ? false : (seen.add(r), true)));
  return `# Configuration reference

<!-- Generated from src/config/schema.ts by \`npm run docs:config\`. Do not edit by hand: a test fails when this file and the schema disagree. -->

Countersign reads one YAML file (\`countersign serve --config FILE\`). Any string may use
\`\${ENV}\` to take a value from the environment; an unset variable fails start-up with the
path of the key. Values taken from the environment are treated as secrets: they are
redacted wherever they could appear. Unknown keys are errors. Relative paths resolve
against the config file's folder.

A bad config fails at start with the exact path of the bad key, for example:

\`\`\`
error [CONFIG_INVALID]: invalid configuration:
  countersign.yaml:7:5: humans[1].tokenHash: expected sha256:<64 lowercase hex digits>
\`\`\`

| Key | Type | Default | Description |
| --- | --- | --- | --- |
${unique.join('\n')}

## Example

\`\`\`yaml
listen: 127.0.0.1:8080
publicUrl: http://localhost:8080
store: { sqlite: ./data/countersign.db }
policy: ./policy.yaml
agents:
  - { id: deploy-bot, token: "\${DEPLOY_BOT_TOKEN}", owner: alice@example.com }
humans:
  - { id: alice@example.com, groups: [release], token: "\${ALICE_TOKEN}" }
  - { id: bob@example.com, groups: [release, oncall], tokenHash: "sha256:<hex>" }
oidc: { issuer: https://idp.example.com, audience: countersign, groupsClaim: groups }   # optional
targets:
  github: { kind: http, baseUrl: https://api.github.com, headers: { Authorization: "Bearer \${GITHUB_TOKEN}" } }
\`\`\`
`;
}
