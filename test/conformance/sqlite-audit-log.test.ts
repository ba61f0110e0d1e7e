import { describeAuditLogConformance } from './audit-log-conformance.js';
import { sqliteHarness, sqliteVariants } from './sqlite-harness.js';

for (const [name, factory, writer] of sqliteVariants) describeAuditLogConformance(name, () => sqliteHarness(factory, writer));
