import { describeAuditLogConformance } from './audit-log-conformance.js';
import { sqliteHarness, SQLITE_VARIANTS } from './sqlite-harness.js';

for (const [name, factory, writer] of SQLITE_VARIANTS) describeAuditLogConformance(name, () => sqliteHarness(factory, writer));
