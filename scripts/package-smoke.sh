#!/usr/bin/env bash
# The package installed for real, as a user installs it (run by .ci/run; minutes, not part
# of npm test, whose install-and-guide test lays the package out from this checkout):
# npm pack, npm install -g into a temp prefix, npm install in an agent project, then a
# smoke test through the installed binary and the SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'kill "${serve:-0}" 2>/dev/null || true; rm -rf "$tmp"' EXIT

tgz=$(npm pack --pack-destination "$tmp" --silent | tail -1)
# Installed as a dependency, the package's own `overrides` do not apply: every package the
# user's npm picks must accept Node 20.19 by itself, or npm prints EBADENGINE (the README's
# promise would be untrue). The install's output is checked for it.
npm install -g --prefix "$tmp/prefix" --allow-scripts=better-sqlite3 --no-audit --no-fund "$tmp/$tgz" 2>&1 | tee "$tmp/install-g.log"
if grep -q EBADENGINE "$tmp/install-g.log"; then
  echo "npm install -g warned about an engine (EBADENGINE): see above" >&2
  exit 1
fi
export PATH="$tmp/prefix/bin:$PATH"
command -v countersign
countersign --version

# A gateway from the getting-started files, through the installed binary.
cp -r "$tmp/prefix/lib/node_modules/countersign/examples/getting-started" "$tmp/gw"
cd "$tmp/gw"
export DEPLOY_BOT_TOKEN=$(countersign token new | head -1) ALICE_TOKEN=$(countersign token new | head -1)
export BOB_TOKEN=$(countersign token new | head -1) CAROL_TOKEN=$(countersign token new | head -1) GITHUB_TOKEN=unused-token-0123456789
countersign policy check policy.yaml --config countersign.yaml
countersign policy test policy.yaml cases.yaml --config countersign.yaml
countersign serve --config countersign.yaml --listen 127.0.0.1:18089 > serve.log 2>&1 &
serve=$!
for _ in $(seq 100); do curl -sf localhost:18089/healthz >/dev/null && break; sleep 0.2; done
echo '{"tool_name":"Bash","tool_input":{"command":"ls"}}' | COUNTERSIGN_URL=http://127.0.0.1:18089 COUNTERSIGN_TOKEN=$DEPLOY_BOT_TOKEN countersign hook claude-code --timeout 3

# The SDK in an agent project.
mkdir "$tmp/agent" && cd "$tmp/agent"
# npm 11 takes --allow-scripts only for global installs: a project says it in package.json.
echo '{ "name": "agent", "private": true, "type": "module", "allowScripts": { "better-sqlite3": true } }' > package.json
npm install --no-audit --no-fund "$tmp/$tgz" 2>&1 | tee "$tmp/install.log"
if grep -q EBADENGINE "$tmp/install.log"; then
  echo "npm install in an agent project warned about an engine (EBADENGINE): see above" >&2
  exit 1
fi
node --input-type=module -e "
import { createClient } from 'countersign/client';
const cs = createClient({ url: 'http://127.0.0.1:18089', token: process.env.DEPLOY_BOT_TOKEN });
const a = await cs.submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/app/releases' } });
if (a.status !== 'pending') throw new Error('expected pending, got ' + a.status);
console.log('SDK ok:', a.id, a.status);
"
echo "package smoke test passed"
