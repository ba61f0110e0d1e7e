// The canary-secret scan: every secret a test or campaign gives the gateway is a unique
// canary value; afterwards, nothing the gateway produced (logs, the store's files with
// the audit log, bundles, payloads the fakes received, responses the tests recorded)
// may contain one, in clear or base64. A scan that read nothing fails: an empty scan
// proves nothing.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Canary values: a fixed prefix and random hex, no words (the gateway's redactor treats
 * any 8 characters of a secret as secret, so a word in a canary would be redacted from
 * ordinary text). What each canary stands for is kept beside it, as its label.
 */
export const CANARY_PATTERN = /canary_[0-9a-f]{24}/;

/** A new canary value. */
export function newCanary() {
  return `canary_${randomBytes(12).toString('hex')}`;
}

function filesUnder(path, out) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if (st.isDirectory()) for (const e of readdirSync(path)) filesUnder(join(path, e), out);
  else if (st.isFile()) out.push(path);
}

/** The forms a secret may take in what was produced: as is, and base64 (standard and url-safe). */
function formsOf(canary) {
  const b64 = Buffer.from(canary).toString('base64').replace(/=+$/, '');
  return [canary, b64, b64.replace(/\+/g, '-').replace(/\//g, '_')].filter((x, i, all) => all.indexOf(x) === i);
}

/**
 * Scans every file under `paths` for every canary (a value, or `{ value, label }`).
 * `skip(file)` leaves out files that legitimately hold a secret (a config written with
 * a secret inline, a key file).
 */
export function scanForCanaries({ paths, canaries: given, skip = () => false }) {
  const canaries = given.map((c) => (typeof c === 'string' ? { value: c, label: c.slice(0, 11) + '…' } : c));
  if (!canaries.length) throw new Error('canary scan: no canary values to look for');
  const files = [];
  for (const p of paths) filesUnder(p, files);
  const found = [];
  let scannedBytes = 0;
  let scannedFiles = 0;
  const needles = canaries.flatMap((c) => formsOf(c.value).map((form) => ({ canary: c, form, bytes: Buffer.from(form) })));
  for (const file of files) {
    if (skip(file)) continue;
    let data;
    try {
      data = readFileSync(file);
    } catch {
      continue; // deleted meanwhile
    }
    scannedFiles++;
    scannedBytes += data.length;
    for (const n of needles) {
      const at = data.indexOf(n.bytes);
      if (at < 0) continue;
      const line = data.subarray(0, at).toString('latin1').split('\n').length;
      const context = data
        .subarray(Math.max(0, at - 60), Math.min(data.length, at + n.bytes.length + 60))
        .toString('latin1')
        .replace(n.form, '<CANARY>')
        .replace(/[^\x20-\x7e]/g, '.');
      found.push({ file, offset: at, line, canary: n.canary.label, form: n.form === n.canary.value ? 'clear' : 'base64', context });
    }
  }
  return { scannedFiles, scannedBytes, found };
}

/** The campaign's report: files from `paths` (a directory is scanned whole), failing loudly when nothing was read. */
export function canaryReport(dir, canaries, extraPaths = []) {
  const r = scanForCanaries({ paths: [dir, ...extraPaths], canaries, skip: (f) => /\.(yaml|key)$/.test(f) });
  if (r.scannedFiles === 0 || r.scannedBytes === 0) throw new Error(`canary scan of ${dir} read nothing`);
  return r;
}
