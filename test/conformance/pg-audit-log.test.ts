import { describeAuditLogConformance } from './audit-log-conformance.js';
import { pgHarness, usePgDatabase } from './pg-harness.js';

const db = usePgDatabase();
describeAuditLogConformance('postgres', () => pgHarness(db()));
