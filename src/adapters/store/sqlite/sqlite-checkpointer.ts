import type { SqliteDb } from './sqlite-db.js';

/** Commits between two checkpoints: at about 7 pages a commit, near SQLite's own 1,000-page threshold. */
export const CHECKPOINT_EVERY_COMMITS = 128;
/**
 * Past this many WAL pages SQLite checkpoints inside a commit again, as it does by default
 * at 1,000: a writer that is never idle still keeps its WAL bounded (about 16 MB).
 */
export const FALLBACK_CHECKPOINT_PAGES = 4000;

export interface Checkpointer {
  /** Called after each commit's callers were answered. */
  committed(): void;
}

/**
 * WAL checkpoints between the writer's commits instead of inside them. SQLite's automatic
 * checkpoint runs inside the COMMIT that crosses its threshold, about one commit in 140 of
 * an MCP call: that commit also copied some 70 pages into the database file and fsynced
 * it, milliseconds on its callers' path (the p99). Here, every CHECKPOINT_EVERY_COMMITS
 * commits, once their callers were answered, a PASSIVE checkpoint runs on the next turn of
 * the writer's event loop if no write is waiting (`busy`); a write waiting goes first and
 * the next commit tries again, as it does while a reader keeps the checkpoint from copying
 * every frame. A thread of its own would hide it entirely, for another
 * V8 isolate (about 10 MB of RSS).
 */
export function createCheckpointer(db: SqliteDb, busy: () => boolean): Checkpointer {
  db.pragma(`wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
  let commits = 0;
  let scheduled = false;

  function run(): void {
    scheduled = false;
    if (busy() || !db.open) return;
    try {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      // Until every frame is in the database file (a reader may still need older ones),
      // the WAL cannot start over: the next commit tries again, as SQLite's own would.
      if (r && r.busy === 0 && r.checkpointed >= r.log) commits = 0;
    } catch {
      // Another process checkpointing, a full disk: the next commit tries again.
    }
  }

  return {
    committed() {
      if (++commits < CHECKPOINT_EVERY_COMMITS || scheduled) return;
      scheduled = true;
      setImmediate(run);
    },
  };
}
