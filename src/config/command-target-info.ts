import { parseByteSize } from '../domain/byte-size.js';
import type { CommandTargetInfo } from '../domain/command-input.js';
import type { Preset, PresetName } from '../domain/command-preset.js';
import { customizePreset, PRESET_NAMES, PRESETS } from '../domain/command-preset.js';
import type { CommandTargetConfig } from './command-schema.js';

/** The preset a program of the config reads its arguments with: as set, else the one named like it, else generic. */
export function presetOf(name: string, p: CommandTargetConfig['programs'][string]): Preset {
  const base: PresetName = p.preset ?? ((PRESET_NAMES as readonly string[]).includes(name) ? (name as PresetName) : 'generic');
  return customizePreset(PRESETS[base], { flags: p.flags, allowFlags: p.allowFlags });
}

/** What the submit path needs of a command target (no paths, no env: those stay with whoever runs it). */
export function commandTargetInfo(t: CommandTargetConfig): CommandTargetInfo {
  return {
    programs: new Map(Object.entries(t.programs).map(([name, p]) => [name, presetOf(name, p)])),
    maxStdinBytes: parseByteSize(t.limits.maxStdin)!,
    maxFilesBytes: parseByteSize(t.limits.maxFiles)!,
  };
}
