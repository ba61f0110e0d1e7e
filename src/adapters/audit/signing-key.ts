import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { AppError } from '../../domain/errors.js';
import type { SignerKey } from '../../domain/signed-note.js';
import { parseSignerKey, signerFromSeed } from '../../domain/signed-note.js';

export interface SigningKeySource {
  /** A signer key from the config (`audit.signingKey`), if any. */
  text?: string | undefined;
  /** The key file otherwise (absolute). */
  file: string;
  /** The log's origin from the config; the key's name must be it. */
  origin?: string | undefined;
  /** Create the file with a new key when it does not exist. */
  create: boolean;
}

export interface LoadedSigningKey {
  signer: SignerKey;
  source: 'config' | 'file';
  /** True when the key was generated now. */
  created: boolean;
}

export function defaultOrigin(publicUrl?: string): string {
  const host = publicUrl ? new URL(publicUrl).host : hostname();
  return `${host || 'localhost'}/countersign/audit`;
}

function invalid(message: string): AppError {
  return new AppError('AUDIT_KEY_INVALID', message);
}

function checkOrigin(signer: SignerKey, origin: string | undefined, where: string): SignerKey {
  if (origin !== undefined && signer.name !== origin) throw invalid(`${where} is the key of "${signer.name}", but audit.origin is "${origin}"`);
  return signer;
}

function parse(text: string, where: string): SignerKey {
  try {
    return parseSignerKey(text);
  } catch (e) {
    throw invalid(`${where} does not hold a signing key: ${(e as Error).message}`);
  }
}

/** Reads the key file, refusing one that others may read (like ssh does). */
function readKeyFile(file: string): SignerKey {
  const st = statSync(file);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw invalid(`${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}): run chmod 600 on it`);
  }
  return parse(readFileSync(file, 'utf8'), file);
}

/**
 * Writes a new key so that no reader ever sees a partial file and two processes
 * starting together end up with one key: written to a private temporary file,
 * synced, then linked into place (which fails if the file appeared meanwhile).
 */
function createKeyFile(file: string, signer: SignerKey): boolean {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${signer.text}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

/** The checkpoint signing key: from the config, else from its file, generated there on first start. */
export function loadSigningKey(src: SigningKeySource, origin: () => string): LoadedSigningKey {
  if (src.text !== undefined) return { signer: checkOrigin(parse(src.text, 'audit.signingKey'), src.origin, 'audit.signingKey'), source: 'config', created: false };
  try {
    return { signer: checkOrigin(readKeyFile(src.file), src.origin, src.file), source: 'file', created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !src.create) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw invalid(`no signing key at ${src.file} (it is created on the gateway's first start)`);
      throw e;
    }
  }
  const signer = signerFromSeed(src.origin ?? origin(), randomBytes(32));
  if (createKeyFile(src.file, signer)) return { signer, source: 'file', created: true };
  return { signer: checkOrigin(readKeyFile(src.file), src.origin, src.file), source: 'file', created: false };
}
