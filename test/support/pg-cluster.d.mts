// Types of pg-cluster.mjs: the built src/demo/local-postgres.ts.
export type { PgCluster, PgClusterInfo, StartPgClusterOptions } from '../../src/demo/local-postgres.js';
export { findPgBinDir, startPgCluster } from '../../src/demo/local-postgres.js';
