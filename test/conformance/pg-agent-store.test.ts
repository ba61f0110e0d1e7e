import { describeAgentStoreConformance } from './agent-store-conformance.js';
import { pgHarness, usePgDatabase } from './pg-harness.js';

const db = usePgDatabase();
describeAgentStoreConformance('postgres', () => pgHarness(db()));
