import { describeStoreConformance } from './store-conformance.js';
import { pgHarness, usePgDatabase } from './pg-harness.js';

const db = usePgDatabase();
describeStoreConformance('postgres', () => pgHarness(db()));
