// The writer thread: owns the write connection and runs every write of the store in
// group-commit batches, so that SQLite work and fsyncs never block the HTTP event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { createActionsTable } from './sqlite-actions.js';
import { createAgentTables } from './sqlite-agent-tables.js';
import { createAuditTable } from './sqlite-audit.js';
import { createAuditLogTable } from './sqlite-audit-log.js';
import { createChannelTables } from './sqlite-channels.js';
import { createCheckpointer } from './sqlite-checkpointer.js';
import { createConsoleTables } from './sqlite-console-tables.js';
import { openSqlite } from './sqlite-db.js';
import { createHistoryTables } from './sqlite-history.js';
import type { WireError, WorkerData, WorkerReply, WorkerRequest } from './sqlite-writer-protocol.js';
import { serializeError } from './sqlite-writer-protocol.js';
import { createWriteOps } from './sqlite-write-ops.js';
import { createInlineWriter } from './sqlite-writer.js';

const port = parentPort!;
const data = workerData as WorkerData;
const db = openSqlite(data.path, data.busyTimeoutMs);
const audit = createAuditTable(db);
const writer = createInlineWriter(
  db,
  createWriteOps({ actions: createActionsTable(db), audit, auditLog: createAuditLogTable(db), agent: createAgentTables(db), channels: createChannelTables(db), console: createConsoleTables(db), history: createHistoryTables(db) }),
  data.maxBatch,
  // A rolled-back batch may have moved the cached right edge of the tree: re-read it.
  () => audit.tree.invalidate(),
);
const reply = (m: WorkerReply) => port.postMessage(m);
/** Replies not yet sent: `closed` must follow every result. */
const replies = new Set<Promise<void>>();
// WAL checkpoints run between commits, when no write waits, never inside one.
const checkpointer = createCheckpointer(db, () => replies.size > 0);

port.on('message', (m: WorkerRequest) => {
  switch (m.type) {
    case 'batch': {
      // Every job of the message is submitted in this turn, so they share one transaction.
      const errors: Array<[number, WireError]> = [];
      const values = m.jobs.map((job, i) =>
        writer.submit(job.op, job.args as never).catch((error: unknown) => {
          errors.push([i, serializeError(error)]);
          return undefined;
        }),
      );
      const sent = Promise.all(values).then((v) => {
        reply(errors.length ? { type: 'result', id: m.id, values: v, errors } : { type: 'result', id: m.id, values: v });
        checkpointer.committed();
      });
      replies.add(sent);
      void sent.finally(() => replies.delete(sent));
      break;
    }
    case 'close':
      void writer
        .drain()
        .then(() => Promise.all(replies))
        .then(() => {
          db.close();
          reply({ type: 'closed' });
        });
      break;
  }
});
