// For plain-Node scripts and benchmarks: the private PostgreSQL cluster of
// src/demo/local-postgres.ts, from the build (run `npm run build` first; `npm run bench`
// does). Tests import the TypeScript module directly. One implementation, in src/.
export { findPgBinDir, startPgCluster } from '../../dist/demo/local-postgres.js';
