// The Store conformance suite: every store implementation runs it unchanged
// (SQLite now, PostgreSQL later). A store is not done until it passes.
import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../../src/ports/store.js';
import { describeAudit } from './store-conformance-audit.js';
import { describeLifetime } from './store-conformance-lifetime.js';
import { describeQueries } from './store-conformance-queries.js';
import { describeWrites } from './store-conformance-writes.js';

export interface StoreHarness {
  /** A fresh, empty store. */
  store: Store;
  /** Opens another Store on the same data; stores opened before may still be open. */
  reopen(): Promise<Store>;
  /** Closes every store this harness opened and deletes the data. */
  cleanup(): Promise<void>;
}

export interface ConformanceContext {
  readonly store: Store;
  readonly harness: StoreHarness;
}

export function describeStoreConformance(name: string, open: () => Promise<StoreHarness>): void {
  describe(`Store conformance: ${name}`, () => {
    let harness: StoreHarness | undefined;
    beforeEach(async () => {
      harness = await open();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });
    const ctx: ConformanceContext = {
      get store() {
        if (!harness) throw new Error('no store open');
        return harness.store;
      },
      get harness() {
        if (!harness) throw new Error('no store open');
        return harness;
      },
    };
    describeWrites(ctx);
    describeAudit(ctx);
    describeQueries(ctx);
    describeLifetime(ctx);
  });
}
