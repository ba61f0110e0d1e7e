import type { WriteOpName } from './sqlite-write-ops.js';

/**
 * Writes whose commit need not wait for an fsync: the channel dispatcher's bookkeeping
 * (feed cursor and enqueued deliveries, leases, outcomes and attempts, pruning). A batch
 * made only of these commits with `synchronous=NORMAL`, so it never holds the store's
 * one writer for a disk flush that the decisions queued behind it would wait for; any
 * batch holding another write commits with `synchronous=FULL`, as always.
 *
 * What this keeps (WAL mode): a NORMAL commit survives a crash of the process (it is in
 * the WAL, in the OS's cache) and becomes durable with the next FULL commit's fsync
 * (which flushes the whole WAL, earlier frames included) or the next checkpoint. Only an
 * OS crash or a power loss can undo the last of them, and then only whole transactions
 * from the end (the WAL's checksums keep a consistent prefix). Every one of them is
 * derived from durable state, so nothing is lost: a feed move undone is read again from
 * the audit log (events keep their ids, syncs merge), a lease undone belonged to a
 * process that died with the machine, an outcome undone makes the delivery go out again
 * (at least once, with the same webhook-id). What can go is the record of those last
 * attempts, and, for a chat message posted just before, its reference (the next sync
 * posts a new message). The audit log and every decision are never written here.
 */
export const LAZY_WRITES: ReadonlySet<WriteOpName> = new Set<WriteOpName>(['cycleDeliveries', 'pruneDeliveries']);
