import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { createClient } from '../client/client.js';
import { loadConfig } from '../config/load.js';
import { demoEnv, demoIdentities, writeDemoFiles } from '../demo/demo-files.js';
import type { SampleDatabaseEngine } from '../demo/sample-database.js';
import { SAMPLE_DATABASE_ENGINES, startSampleDatabase } from '../demo/sample-database.js';
import { startSampleTarget } from '../demo/sample-target.js';
import { createLogger } from '../logger.js';
import { startGateway } from '../app/main.js';
import { formatAuditEntry } from './audit-format.js';
import { runDatabaseSteps, tableNow } from './demo-database-step.js';
import { attempt, bold, describe, dim, say, waitWithProgress } from './demo-output.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start a gateway with a sample policy and target, and run a scripted agent against it')
    .option('--auto-approve', 'approve the pending write as the demo approvers (non-interactive)')
    .option('--dir <dir>', 'where to put the demo config, policy and database (default: a new temp folder)')
    .option('--keep', 'keep the gateway running at the end (Ctrl-C to stop)')
    .addOption(new Option('--database <engine>', 'the sample database: a private PostgreSQL cluster when installed, else PGlite (auto), or force one').choices(SAMPLE_DATABASE_ENGINES).default('auto'))
    .action(async (o: { autoApprove?: boolean; dir?: string; keep?: boolean; database: SampleDatabaseEngine }) => {
      const dir = o.dir ? resolve(o.dir) : mkdtempSync(join(tmpdir(), 'countersign-demo-'));
      mkdirSync(dir, { recursive: true });
      const ids = demoIdentities();
      const db = await startSampleDatabase({ engine: o.database, onProgress: (l) => say(dim(`  ${l}`)) });
      const target = await startSampleTarget(ids.targetToken);
      const { configPath } = writeDemoFiles(dir, target.url, db.poolSize);
      const loaded = loadConfig(configPath, { ...process.env, ...demoEnv(ids, db.url) });
      // The demo narrates what happens; the server's own log lines would only interleave with it.
      const gw = await startGateway(loaded, { logger: createLogger('error') }).catch(async (e: unknown) => {
        await Promise.allSettled([target.close(), db.close()]);
        throw e;
      });
      const client = (token: string) => createClient({ url: gw.url, token, userAgent: 'countersign-cli/demo' });
      const agent = client(ids.agentToken);
      const cli = `node ${resolve(process.argv[1] ?? 'dist/cli/main.js')}`;
      try {
        say(bold('Countersign demo'));
        say(`  gateway   ${gw.url}   (SQLite ${loaded.storePath})`);
        say(`  policy    ${loaded.policyPath}`);
        say(`  target    github → ${target.url} (a local GitHub-like API; only the gateway holds its token)`);
        say(`  database  shop-db → ${db.description}; customers.email masked`);
        say(`  agent     deploy-bot, owned by carol@example.com`);
        say(`  approvers alice@example.com and bob@example.com (group release); bob and carol are on call (group oncall)`);

        say(`\n${bold('1. The agent reads a repository')} — GET /repos/acme/widgets`);
        const read = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/widgets' }, justification: 'Check the default branch' });
        say(`  ${describe(read)}`);
        const readDone = await agent.wait(read.id, { timeoutSeconds: 30 });
        say(`  ${readDone.status}: HTTP ${readDone.result?.status} ${JSON.stringify(readDone.result?.body)}`);
        say(dim('  The gateway injected the GitHub credential; the agent never held it.'));

        say(`\n${bold('2. The agent tries to delete the repository')} — DELETE /repos/acme/widgets`);
        const del = await agent.submit({ kind: 'http', target: 'github', input: { method: 'DELETE', path: '/repos/acme/widgets' }, justification: 'Clean up' });
        say(`  ${describe(del)}`);

        say(`\n${bold('3. The agent publishes a release')} — POST /repos/acme/widgets/releases`);
        const rel = await agent.submit({
          kind: 'http',
          target: 'github',
          input: { method: 'POST', path: '/repos/acme/widgets/releases', body: { tag_name: 'v1.4.0', name: 'Widgets 1.4.0' } },
          justification: 'Ship the fix for the checkout bug',
          onBehalfOf: 'dave@example.com',
        });
        say(`  ${describe(rel)}`);
        say(`  fingerprint ${rel.fingerprint}`);
        say(dim('  Separation of duties: the agent and its owner cannot approve their own action.'));
        await attempt('the agent approves', () => agent.approve(rel.id, rel.fingerprint));
        await attempt('carol (the agent\'s owner, in group release) approves', () => client(ids.carolToken).approve(rel.id, rel.fingerprint));

        if (o.autoApprove) {
          say(`\n  Approving as the demo approvers (--auto-approve):`);
          await attempt('alice approves', () => client(ids.aliceToken).approve(rel.id, rel.fingerprint, 'LGTM'));
          await attempt('alice approves again', () => client(ids.aliceToken).approve(rel.id, rel.fingerprint));
          await attempt('bob approves', () => client(ids.bobToken).approve(rel.id, rel.fingerprint, 'Ship it'));
        } else {
          say(`\n  ${bold('Two different approvers must approve. In another terminal:')}`);
          say(`    export COUNTERSIGN_URL=${gw.url}`);
          say(`    COUNTERSIGN_TOKEN=${ids.aliceToken} ${cli} approve ${rel.id}`);
          say(`  ${bold('and then, as the second approver:')}`);
          say(`    COUNTERSIGN_TOKEN=${ids.bobToken} ${cli} approve ${rel.id}`);
          say(dim(`  (see what is waiting with: COUNTERSIGN_TOKEN=${ids.bobToken} ${cli} pending)`));
          say(`\n  The agent waits (long poll):`);
        }
        const relDone = await waitWithProgress(agent, rel.id);
        say(`  ${relDone.status}: HTTP ${relDone.result?.status ?? '-'} ${relDone.result?.body !== undefined ? JSON.stringify(relDone.result.body) : ''}`);

        await runDatabaseSteps({ agent, client, tokens: { bob: ids.bobToken, carol: ids.carolToken }, autoApprove: !!o.autoApprove, cli, gatewayUrl: gw.url, first: 4 });
        say(`\n${bold('shop-db now')} (read directly, as the database's owner):`);
        for (const l of await tableNow(db.url)) say(`  ${l}`);

        say(`\n${bold('7. The audit trail')} (append-only; each entry is canonical JSON with an RFC 9162 leaf hash)`);
        const size = await gw.store.auditSize();
        for (const e of await gw.store.readAudit(0, size)) say(`  ${formatAuditEntry(e)}`);

        say(`\n${bold('What reached the target')}`);
        for (const r of target.received) say(`  ${r.method} ${r.path}${r.authenticated ? ' (with the gateway\'s credential)' : ''}`);
        say(dim('  No DELETE: the denied action never left the gateway.'));
        say(`\n${bold('Check it yourself, offline')} (the gateway signs a checkpoint as it stops):`);
        say(`    ${cli} audit verify --config ${configPath}`);
        say(`    ${cli} audit export --config ${configPath} --out ${join(dir, 'evidence')}`);
        if (o.keep) {
          say(`\nThe gateway keeps running at ${gw.url}; Ctrl-C to stop.`);
          await new Promise<void>((r) => process.once('SIGINT', () => r()));
        }
      } finally {
        await gw.close();
        await target.close();
        await db.close();
      }
    });
}
