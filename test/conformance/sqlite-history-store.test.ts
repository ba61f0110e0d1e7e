import { describeGrantStoreConformance } from './grant-store-conformance.js';
import { describeHistoryStoreConformance } from './history-store-conformance.js';
import { SQLITE_VARIANTS, sqliteHarness } from './sqlite-harness.js';

for (const [name, factory, writer] of SQLITE_VARIANTS) {
  describeHistoryStoreConformance(name, () => sqliteHarness(factory, writer));
  describeGrantStoreConformance(name, () => sqliteHarness(factory, writer));
}
