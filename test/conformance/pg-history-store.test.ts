import { describeGrantStoreConformance } from './grant-store-conformance.js';
import { describeHistoryStoreConformance } from './history-store-conformance.js';
import { pgHarness, usePgDatabase } from './pg-harness.js';

const db = usePgDatabase();
describeHistoryStoreConformance('postgres', () => pgHarness(db()));
describeGrantStoreConformance('postgres', () => pgHarness(db()));
