import { sqliteHarness, sqliteVariants } from './sqlite-harness.js';
import { describeStoreConformance } from './store-conformance.js';

for (const [name, factory, writer] of sqliteVariants) describeStoreConformance(name, () => sqliteHarness(factory, writer));
