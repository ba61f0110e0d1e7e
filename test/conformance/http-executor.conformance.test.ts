import { httpTargetSchema } from '../../src/config/schema.js';
import { createHttpExecutor } from '../../src/adapters/executors/http-executor.js';
import { runningAction } from '../executors/action-fixture.js';
import { startServer } from '../executors/http-test-server.js';
import { executorConformance } from './executor-conformance.js';

const TOKEN = 'conformance-token-0123456789';

executorConformance('http', async () => {
  // The target echoes the credential it received, so that redaction is exercised.
  const server = await startServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ auth: req.headers.authorization })));
  const target = httpTargetSchema.parse({ kind: 'http', baseUrl: `${server.origin}/api`, headers: { Authorization: `Bearer ${TOKEN}` } });
  return {
    executor: createHttpExecutor({ targets: { t: target }, secrets: [`Bearer ${TOKEN}`, TOKEN] }),
    runnable: () => runningAction({ target: 't', input: { method: 'POST', path: '/things', body: { n: 1 } } }),
    reached: () => server.requests.length,
    secrets: [TOKEN],
    close: () => server.close(),
  };
});
