// Used by both processes of the two-writer test. Each writes chunks until it has written
// `min` actions AND has seen the other process append after its own start, then writes one
// more chunk. Whichever starts first, the log then holds first..second..first: the writes
// provably interleave, with no timing assumption in the test.
import { setTimeout as sleep } from 'node:timers/promises';

export async function writeUntilInterleaved(store, make, min, chunk = 4) {
  const baseline = await store.auditSize();
  let written = 0;
  let sawOther = false;
  for (let round = 0; round < 10_000; round++) {
    const batch = [];
    for (let k = 0; k < chunk; k++) {
      const t = make(written++);
      batch.push(store.insertAction(t.next, t.audit));
    }
    for (const r of await Promise.all(batch)) if (!r.inserted) throw new Error('not inserted');
    if (sawOther && written >= min) return written;
    await sleep(1);
    const others = (await store.auditSize()) - baseline - written * 2;
    if (others > 0) sawOther = true;
  }
  throw new Error('the other writer never wrote');
}
