import type { VerifyReport } from '../adapters/audit/verifier.js';
import type { Finding } from '../domain/audit-finding.js';

const n = (x: number) => x.toLocaleString('en-US');

export function formatFinding(f: Finding): string {
  const where = f.range ? `entries ${n(f.range.from)} to ${n(f.range.to)}` : f.seq !== undefined ? `entry ${n(f.seq)}` : f.checkpoint !== undefined ? `checkpoint of ${n(f.checkpoint)} entries` : 'log';
  const lines = [`${where} [${f.check}]: ${f.message}`];
  if (f.expected !== undefined || f.found !== undefined) lines.push(`    expected: ${f.expected ?? '-'}`, `    found:    ${f.found ?? '-'}`);
  if (f.actionId) lines.push(`    action:   ${f.actionId}`);
  return lines.join('\n');
}

/** The human report of `audit verify`. */
export function formatVerifyReport(r: VerifyReport, source: string, notes: readonly string[]): string {
  const out: string[] = [`Audit log: ${source}`];
  const e = r.entries;
  const tampering = r.findings.filter((f) => f.kind === 'tampering');
  const governance = r.findings.filter((f) => f.kind === 'governance');
  const warnings = r.findings.filter((f) => f.kind === 'warning');
  out.push(`  entries      ${e.end > e.start ? `${n(e.start)} to ${n(e.end - 1)}` : 'none'} (${n(e.checked)} checked): leaf hashes, sequence numbers${r.treeNodesChecked ? `, ${n(r.treeNodesChecked)} stored tree nodes` : ''}`);
  if (r.root) out.push(`  tree root    ${r.root} at ${n(e.end)} entries`);
  const cp = r.checkpoints;
  out.push(`  checkpoints  ${n(cp.checked)} checked${cp.signedBy.length ? `, signed by ${cp.signedBy.join(', ')}` : ''}${cp.latest ? `; latest covers ${n(cp.latest.size)} entries` : ''}${cp.cosigned ? `; ${cp.cosigned} witness cosignatures verified` : ''}`);
  const { proven, unproven } = r.coverage;
  if (proven || unproven) {
    const parts = [proven ? `entries ${n(proven.from)} to ${n(proven.to)} proven by the checkpoint of ${n(proven.checkpoint)} entries` : 'no entry proven by a signed checkpoint', ...(unproven ? [`entries ${n(unproven.from)} to ${n(unproven.to)} not proven`] : [])];
    out.push(`  signed       ${parts.join('; ')}`);
  }
  for (const k of r.known) out.push(`  known        the checkpoint of ${n(k.size)} entries in ${k.source}: ${k.consistent ? 'the log agrees with it' : 'the log DISAGREES with it'}`);
  out.push(`  witnesses    ${r.witnesses.copies ? `${n(r.witnesses.checked)} of ${n(r.witnesses.copies)} checkpoint copies compared` : 'none given (--witness DIR)'}`);
  const g = r.governance;
  if (!r.governanceChecked) out.push('  governance   not checked (--integrity-only)');
  else out.push(`  governance   ${n(g.actions)} actions, ${n(g.executions)} executions, ${n(g.reviews)} reviews, ${n(g.policyVersions)} policy versions: ${g.violations ? `${n(g.violations)} violations` : 'no violation'}`);
  for (const note of notes) out.push(`  note         ${note}`);
  // The coverage lines below say it better than these warnings.
  for (const w of warnings.filter((x) => x.check !== 'uncovered-entries' && x.check !== 'no-checkpoint').slice(0, 5)) out.push(`  warning      ${w.message}`);
  const speed = `${n(e.checked)} entries in ${r.seconds.toFixed(1)} s (${n(Math.round(r.entriesPerSecond))} entries/s)`;
  if (r.result === 'verified') {
    out.push(...coverageLines(r, speed));
    return out.join('\n');
  }
  if (r.coverage.unproven && r.result === 'governance') out.push(unprovenLine(r.coverage.unproven));
  const list = r.result === 'tampered' ? tampering : governance;
  out.push(`${r.result === 'tampered' ? 'TAMPERING DETECTED' : 'GOVERNANCE VIOLATION'} (exit ${r.exitCode}): ${speed}`);
  if (r.first) out.push(`first: ${formatFinding(r.first)}`);
  for (const f of list.filter((x) => x !== r.first).slice(0, 9)) out.push(`also:  ${formatFinding(f)}`);
  const total = r.result === 'tampered' ? r.counts.tampering : r.counts.governance;
  if (total > 10) out.push(`(${n(total - 10)} more; --json lists up to 1,000)`);
  if (r.result === 'tampered' && r.counts.governance) out.push(`(${n(r.counts.governance)} governance findings too, read from entries that cannot be trusted)`);
  return out.join('\n');
}

function unprovenLine(u: { from: number; to: number }): string {
  return `NOT VERIFIED: entries ${n(u.from)} to ${n(u.to)}: no signed checkpoint covers them yet (the gateway signs within audit.checkpoints.maxDelay); they are consistent with the log, not proven`;
}

/** VERIFIED names exactly the entries a signature proves, and never the others. */
function coverageLines(r: VerifyReport, speed: string): string[] {
  const { proven, unproven } = r.coverage;
  const out: string[] = [];
  if (proven) out.push(`VERIFIED: entries ${n(proven.from)} to ${n(proven.to)}, proven by the signed checkpoint of ${n(proven.checkpoint)} entries; ${speed}`);
  else if (!unproven) out.push(`VERIFIED: no entries; ${speed}`);
  if (unproven) out.push(unprovenLine(unproven));
  return out;
}

/** A progress bar on stderr for long runs: drawn after half a second, at most ten times a second. */
export function progressBar(stream: NodeJS.WriteStream, label: string): { update(done: number, total: number): void; done(): void } {
  const started = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - started < 500 || now - last < 100) return;
      last = now;
      drawn = true;
      const width = 30;
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      const rate = done / ((now - started) / 1000);
      stream.write(`\r${label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${n(done)}/${n(total)} ${n(Math.round(rate))}/s `);
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
