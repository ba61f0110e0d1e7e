import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandTargetSettings } from '../../src/adapters/command/command-settings.js';
import { createLocalCommandTargets } from '../../src/adapters/command/command-targets.js';
import { commandTargetSchema } from '../../src/config/command-schema.js';
import { createRedactor } from '../../src/domain/redact-secrets.js';
import { runningAction } from '../executors/action-fixture.js';
import { executorConformance } from './executor-conformance.js';

const TOOL = fileURLToPath(new URL('../command/tool.mjs', import.meta.url));
const SECRET = 'conformance-secret-9d8c7b6a5f4e3d2c';

executorConformance('command (local)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-cmd-conf-'));
  const runlog = join(dir, 'runlog');
  const t = commandTargetSettings(
    't',
    commandTargetSchema.parse({ kind: 'command', programs: { tool: { path: TOOL } }, env: { API_TOKEN: SECRET, RUNLOG: runlog }, path: `/usr/bin:/bin:${dirname(process.execPath)}` }),
  );
  const { executor } = createLocalCommandTargets(new Map([['t', t]]), createRedactor([SECRET], { credentials: [SECRET] }));
  return {
    executor,
    // The program prints its whole environment, secret included: the result must not.
    runnable: () => runningAction({ target: 't', kind: 'command', input: { argv: ['tool', 'env'] } }),
    reached: () => (existsSync(runlog) ? readFileSync(runlog, 'utf8').trim().split('\n').length : 0),
    secrets: [SECRET],
    close: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
});
