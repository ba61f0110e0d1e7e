// `node --import` this file with COUNTERSIGN_MODULE_TRACE=<file>: registers module-trace-hooks.mjs.
import { register } from 'node:module';

register('./module-trace-hooks.mjs', import.meta.url, { data: { file: process.env.COUNTERSIGN_MODULE_TRACE } });
