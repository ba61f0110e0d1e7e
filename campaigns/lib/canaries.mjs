// The canary-secret scan: every secret a test or campaign gives the gateway is a unique
// canary value; afterwards, nothing the gateway produced (logs, the store's files with
// the audit log, bundles, payloads the fakes received, responses the tests recorded)
// may contain one, in clear or base64. A scan that read nothing fails: an empty scan
// proves nothing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Canary values look like this, so a scan can also tell a canary it was not told about. */
export const CANARY_PATTERN = /canary-[a-z0-9-]+-[0-9a-f]{16,}/;

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
 * Scans every file under `paths` for every canary. `skip(file)` leaves out files that
 * legitimately hold a secret (the inputs the test wrote: a config with a secret inline).
 */
export function scanForCanaries({ paths, canaries, skip = () => false }) {
  if (!canaries.length) throw new Error('canary scan: no canary values to look for');
  const files = [];
  for (const p of paths) filesUnder(p, files);
  const found = [];
  let scannedBytes = 0;
  let scannedFiles = 0;
  const needles = canaries.flatMap((c) => formsOf(c).map((form) => ({ canary: c, form, bytes: Buffer.from(form) })));
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
      found.push({ file, offset: at, line, canary: `${n.canary.slice(0, n.canary.lastIndexOf('-'))}-…`, form: n.form === n.canary ? 'clear' : 'base64', context });
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
