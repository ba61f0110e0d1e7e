import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const UNIT = join(import.meta.dirname, '../../deploy/countersign.service');
const text = readFileSync(UNIT, 'utf8');

/** The unit's sections, each key with every value it is given (systemd keys repeat). */
function parseUnit(t: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section: Record<string, string[]> | undefined;
  for (const raw of t.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      section = out[head[1]!] = {};
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !section) throw new Error(`not a unit line: ${line}`);
    (section[kv[1]!] ??= []).push(kv[2]!);
  }
  return out;
}

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('deploy/countersign.service', () => {
  const unit = parseUnit(text);
  const svc = unit.Service!;

  it('runs serve as its own user, reloads on SIGHUP, and restarts on failure', () => {
    expect(svc.User).toEqual(['countersign']);
    expect(svc.ExecStart![0]).toMatch(/countersign serve --config \/etc\/countersign\/countersign\.yaml$/);
    expect(svc.ExecReload).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(svc.Restart).toEqual(['on-failure']);
    expect(unit.Install?.WantedBy).toEqual(['multi-user.target']);
  });

  it('is hardened: no new privileges, a read-only system, a state directory apart for the signing key, no capabilities', () => {
    expect(svc.NoNewPrivileges).toEqual(['yes']);
    expect(svc.ProtectSystem).toEqual(['strict']);
    expect(svc.ProtectHome).toEqual(['yes']);
    expect(svc.PrivateTmp).toEqual(['yes']);
    expect(svc.StateDirectory).toEqual(['countersign', 'countersign-keys']);
    expect(svc.UMask).toEqual(['0077']);
    expect(svc.CapabilityBoundingSet).toEqual(['']);
    expect(svc.SystemCallFilter).toContain('@system-service');
  });

  it.runIf(hasSystemdAnalyze)('passes systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-unit-'));
    try {
      // verify checks that ExecStart's binary exists: point it at this node.
      const file = join(dir, 'countersign.service');
      writeFileSync(file, text.replace('/usr/local/bin/countersign', process.execPath));
      const out = execFileSync('systemd-analyze', ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
