// What the allow-path benchmarks share (http-bench.mjs, http-cpu.mjs): the gateway's config
// and policy (GETs on one target allowed, decide mode) and the request they send.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TOKEN = 'bench-agent-token-0123456789';

/** Writes policy.yaml and countersign.yaml into `dir`; returns the config's path and the POST /v1/actions request. */
export function writeAllowPathFixture(dir) {
  writeFileSync(join(dir, 'policy.yaml'), 'default: { outcome: deny }\nrules:\n  - id: reads\n    match: { kind: http, target: api }\n    when: http.method == "GET"\n    outcome: allow\n');
  const configPath = join(dir, 'countersign.yaml');
  writeFileSync(
    configPath,
    `listen: 127.0.0.1:0\nstore: { sqlite: ./bench.db }\npolicy: ./policy.yaml\nagents:\n  - { id: bench-bot, token: "${TOKEN}", owner: owner@example.com }\nhumans:\n  - { id: owner@example.com, groups: [oncall] }\ntargets:\n  api: { kind: http, baseUrl: "http://127.0.0.1:9" }\nlog: { level: info }\n`,
  );
  const body = JSON.stringify({ kind: 'http', target: 'api', input: { method: 'GET', path: '/v1/items/42', query: { expand: 'owner' } }, mode: 'decide', justification: 'benchmark' });
  return { configPath, request: { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body } };
}
