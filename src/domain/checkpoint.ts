import { HASH_SIZE } from './merkle.js';
import type { OpenedNote, SignerKey, VerifierKey } from './signed-note.js';
import { decodeBase64, isKeyName, NoteError, openNote, parseNote, signNote } from './signed-note.js';

/**
 * C2SP tlog-checkpoint: the note text is the origin, the tree size and the base64
 * root hash, one per line. The log's key name is the origin.
 */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
}

export interface SignedCheckpoint extends Checkpoint {
  /** The whole signed note, as served and witnessed. */
  note: string;
}

export function checkpointText(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${Buffer.from(c.root).toString('base64')}\n`;
}

/** Parses a checkpoint's note text (extension lines are refused: this log writes none). */
export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[3] !== '') throw new NoteError('a checkpoint is three lines: origin, tree size, root hash');
  const [origin, size, root] = lines as [string, string, string];
  if (!isKeyName(origin)) throw new NoteError('invalid checkpoint origin');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size) || !Number.isSafeInteger(Number(size))) throw new NoteError('invalid checkpoint tree size');
  const hash = decodeBase64(root);
  if (!hash || hash.length !== HASH_SIZE) throw new NoteError('invalid checkpoint root hash');
  return { origin, size: Number(size), root: hash };
}

export function signCheckpoint(c: Checkpoint, signer: SignerKey): SignedCheckpoint {
  if (signer.name !== c.origin) throw new NoteError(`the signing key is named ${signer.name}, not the origin ${c.origin}`);
  return { ...c, note: signNote(checkpointText(c), signer) };
}

/** Parses a signed checkpoint without verifying it (to say what it claims). */
export function readCheckpoint(note: string): SignedCheckpoint {
  return { ...parseCheckpointText(parseNote(note).text), note };
}

/** Opens a signed checkpoint with trusted keys (throws NoteError). */
export function openCheckpoint(note: string, keys: readonly VerifierKey[]): SignedCheckpoint & { opened: OpenedNote } {
  const opened = openNote(note, keys);
  const c = parseCheckpointText(opened.text);
  const mismatched = opened.verifiedBy.find((k) => k.name !== c.origin);
  if (mismatched) throw new NoteError(`checkpoint of ${c.origin} signed by the key of ${mismatched.name}`);
  return { ...c, note, opened };
}

/** Appends cosignature lines to a note (the note's own signature lines stay first). */
export function withCosignatures(note: string, lines: readonly string[]): string {
  return note + lines.filter((l) => !note.includes(l)).join('');
}
