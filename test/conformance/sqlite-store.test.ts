import { describeStoreConformance } from './store-conformance.js';
import { SQLITE_VARIANTS, sqliteHarness } from './sqlite-harness.js';

for (const [name, factory, writer] of SQLITE_VARIANTS) describeStoreConformance(name, () => sqliteHarness(factory, writer));
