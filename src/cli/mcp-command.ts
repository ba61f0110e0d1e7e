import type { Command } from 'commander';
import pino from 'pino';
import { openStore } from '../app/store-wiring.js';
import { loadConfig } from '../config/load.js';
import { buildAuthenticator, startCore } from '../app/main.js';
import { CliExit, EXIT } from './cli-runtime.js';

/**
 * `countersign mcp`: the MCP gateway over stdio, for clients that spawn their servers.
 * It opens the same store as a running `serve` (approvals given there reach it) and
 * speaks for the agent whose token is in the environment. Logs go to stderr: stdout
 * is the protocol.
 */
export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description('serve the MCP gateway over stdio (the agent\'s token in COUNTERSIGN_TOKEN)')
    .requiredOption('-c, --config <file>', 'config file (YAML), the same as serve\'s')
    .option('--token-env <name>', 'environment variable holding the agent\'s token', 'COUNTERSIGN_TOKEN')
    .action(async (o: { config: string; tokenEnv: string }) => {
      const loaded = loadConfig(o.config);
      const token = process.env[o.tokenEnv];
      if (!token) throw new CliExit(EXIT.USAGE, `no token: set ${o.tokenEnv} to the agent's token`);
      const who = await (await buildAuthenticator(loaded.config)).authenticate(token);
      if (!who) throw new CliExit(EXIT.USAGE, `the token in ${o.tokenEnv} is not valid for this gateway`);
      if (!Object.keys(loaded.config.mcp.servers).length) throw new CliExit(EXIT.USAGE, `${o.config}: mcp.servers is empty: there is nothing to serve`);
      const core = await startCore(loaded, { logDestination: pino.destination(2) });
      const { logger } = core;
      const gateway = core.agents.gateway;
      if (!gateway) throw new CliExit(EXIT.FAILURE, 'the MCP gateway did not start');
      // The MCP SDK loads only for this command: every other command (serve included) runs without it.
      const [{ StdioServerTransport }, { createMcpServer }] = await Promise.all([import('@modelcontextprotocol/sdk/server/stdio.js'), import('../mcp/mcp-server.js')]);
      const server = createMcpServer(gateway, who, { listChanged: true });
      const stopForwarding = gateway.onToolsChanged(() => void server.sendToolListChanged().catch(() => undefined));
      const transport = new StdioServerTransport();
      await new Promise<void>((resolve) => {
        let done = false;
        const stop = () => {
          if (done) return;
          done = true;
          stopForwarding();
          void server
            .close()
            .catch(() => undefined)
            .then(() => core.close())
            .then(resolve, resolve);
        };
        transport.onclose = stop;
        process.stdin.once('end', stop);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        void server.connect(transport).then(() => logger.info({ agent: who.id }, 'countersign mcp serving on stdio'));
      });
    });
}

/**
 * `countersign mcp-trust`: accepts the latest definition of a tool whose definition
 * changed (re-pins it), so its calls follow policy again. Run by an operator with access
 * to the store; recorded in the audit log under the human named by --by.
 */
export function registerMcpTrustCommand(program: Command): void {
  program
    .command('mcp-trust')
    .description('accept the changed definition of an MCP tool (re-pin it); audited')
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .requiredOption('--by <human>', 'the configured human accepting the change')
    .argument('<server>', 'MCP server name')
    .argument('<tool>', 'tool name, as the server lists it')
    .action(async (server: string, tool: string, o: { config: string; by: string }) => {
      const loaded = loadConfig(o.config);
      const human = loaded.config.humans.find((h) => h.id.toLowerCase() === o.by.toLowerCase());
      if (!human) throw new CliExit(EXIT.USAGE, `--by: ${o.by} is not a configured human`);
      if (!Object.hasOwn(loaded.config.mcp.servers, server)) throw new CliExit(EXIT.USAGE, `no MCP server named ${server} in the config`);
      const store = await openStore(loaded.store);
      try {
        if (!(await store.repin(server, tool, human.id, new Date().toISOString()))) {
          throw new CliExit(EXIT.FAILURE, `nothing to accept: ${server}/${tool} is not pinned, or its definition has not changed`);
        }
        process.stdout.write(`accepted the current definition of ${server}/${tool}\n`);
      } finally {
        await store.close();
      }
    });
}
