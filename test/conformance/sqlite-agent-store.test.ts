import { describeAgentStoreConformance } from './agent-store-conformance.js';
import { SQLITE_VARIANTS, sqliteHarness } from './sqlite-harness.js';

for (const [name, factory, writer] of SQLITE_VARIANTS) describeAgentStoreConformance(name, () => sqliteHarness(factory, writer));
