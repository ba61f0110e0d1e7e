// Writes docs/configuration.md from the config schema (run: npm run docs:config).
import { writeFileSync } from 'node:fs';
import { configReferenceMarkdown } from '../dist/config/config-docs.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configReferenceMarkdown());
console.log('wrote docs/configuration.md');
