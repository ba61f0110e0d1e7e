import { existsSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { DEFAULT_SIGNING_KEY_FILE } from '../config/audit-schema.js';

/** The default before it moved out of the database's folder. */
const LEGACY_SIGNING_KEY_FILE = './data/audit-signing.key';

export interface KeyLocation {
  file: string;
  /** Why the location deserves the operator's attention, if it does. */
  warning?: string;
}

/**
 * The key file's path. A gateway that generated its key at the old default keeps using
 * it (a new key would break the chain of signed checkpoints), with a warning to move it;
 * a key in the database's own folder is warned about too: a copy or backup of that folder
 * would carry the means to re-sign a rewritten log.
 */
export function signingKeyLocation(configured: string, abs: (p: string) => string, storePath: string): KeyLocation {
  let file = abs(configured);
  let warning: string | undefined;
  if (configured === DEFAULT_SIGNING_KEY_FILE && !existsSync(file) && existsSync(abs(LEGACY_SIGNING_KEY_FILE))) {
    file = abs(LEGACY_SIGNING_KEY_FILE);
    warning = `the audit signing key is at the old default ${LEGACY_SIGNING_KEY_FILE}; move it to ${DEFAULT_SIGNING_KEY_FILE} (or set audit.signingKeyFile), away from the database`;
  }
  if (!warning && storePath !== ':memory:' && relative(dirname(storePath), dirname(file)) === '') {
    warning = `the audit signing key ${file} is in the database's folder: a copy of that folder can re-sign a rewritten log; set audit.signingKeyFile to a folder of its own`;
  }
  return warning ? { file, warning } : { file };
}
