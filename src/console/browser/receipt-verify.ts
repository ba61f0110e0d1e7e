// Runs in the browser (and in Node for tests): the same checks as the offline verifier
// (src/domain/merkle.ts, signed-note.ts, checkpoint.ts), on WebCrypto, with no imports.
// RFC 9162 section 2.1.3.2 inclusion proofs; C2SP signed-note and tlog-checkpoint.

export interface Check {
  ok: boolean;
  text: string;
}

export interface ReceiptLike {
  actionId: string;
  checkpoint: string | null;
  treeSize: number;
  entries: Array<{ seq: number; entry: string; leafHash: string; proof: string[] }>;
  pending: number[];
}

const enc = new TextEncoder();

function strictBase64(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return btoa(bin) === s ? out : undefined;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

async function sha256(b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>));
}

interface Key {
  name: string;
  keyId: Uint8Array;
  publicKey: Uint8Array;
}

/** `<name>+<8 hex>+<base64(0x01 || Ed25519 key)>`, with the key id checked. */
export async function parseKey(text: string): Promise<Key> {
  const parts = text.split('+');
  if (parts.length < 3) throw new Error('a verifier key is <name>+<key id>+<base64 key>');
  const [name, id] = parts as [string, string];
  const raw = strictBase64(parts.slice(2).join('+'));
  if (!raw || raw.length !== 33 || raw[0] !== 0x01) throw new Error('not an Ed25519 verifier key');
  const publicKey = raw.subarray(1);
  const keyId = (await sha256(concat(enc.encode(name), new Uint8Array([0x0a, 0x01]), publicKey))).subarray(0, 4);
  if (hex(keyId) !== id) throw new Error('the key id does not match the key');
  return { name, keyId, publicKey };
}

/** Opens a signed checkpoint: a trusted key named as the origin must have signed it; a bad signature from a known key fails. */
export async function openCheckpoint(note: string, keys: readonly Key[]): Promise<{ origin: string; size: number; root: Uint8Array }> {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new Error('a note has no control characters but newlines');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('the checkpoint is not a signed note');
  const text = note.slice(0, split + 1);
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[3] !== '') throw new Error('a checkpoint is three lines: origin, tree size, root hash');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) throw new Error('invalid tree size');
  const root = strictBase64(rootText);
  if (!root || root.length !== 32) throw new Error('invalid root hash');
  let verified = false;
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m) throw new Error('malformed signature line');
    const sig = strictBase64(m[2]!);
    if (!sig || sig.length < 5) throw new Error('malformed signature');
    const key = keys.find((k) => k.name === m[1] && equal(k.keyId, sig.subarray(0, 4)));
    if (!key) continue; // another key (a witness): ignored, as C2SP says
    if (key.name !== origin) throw new Error(`signed by the key of ${key.name}, not of the origin ${origin}`);
    const pub = await crypto.subtle.importKey('raw', key.publicKey as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']);
    const ok = sig.length === 68 && (await crypto.subtle.verify({ name: 'Ed25519' }, pub, sig.subarray(4) as Uint8Array<ArrayBuffer>, enc.encode(text)));
    if (!ok) throw new Error(`the signature of ${key.name} does not verify`);
    verified = true;
  }
  if (!verified) throw new Error('no trusted key signed the checkpoint');
  return { origin, size: Number(sizeText), root };
}

async function hashChildren(l: Uint8Array, r: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(new Uint8Array([1]), l, r));
}

/** RFC 9162 2.1.3.2: the root an inclusion proof leads to, or undefined when it is malformed. */
export async function rootFromInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Promise<Uint8Array | undefined> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return undefined;
  if (leaf.length !== 32 || proof.some((p) => p.length !== 32)) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = await hashChildren(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** Every check of a receipt, in order; `ok` only when each passed and at least one entry was checked. */
export async function verifyReceipt(receipt: ReceiptLike, keyTexts: readonly string[]): Promise<{ ok: boolean; checks: Check[] }> {
  const checks: Check[] = [];
  const fail = (text: string) => ({ ok: false, checks: [...checks, { ok: false, text }] });
  let keys: Key[];
  try {
    keys = await Promise.all(keyTexts.map(parseKey));
  } catch (e) {
    return fail(`The log's verifier key is unusable: ${(e as Error).message}`);
  }
  if (!receipt.checkpoint) return fail('No signed checkpoint covers this action yet: try again in a few seconds.');
  let cp: { origin: string; size: number; root: Uint8Array };
  try {
    cp = await openCheckpoint(receipt.checkpoint, keys);
  } catch (e) {
    return fail(`Checkpoint: ${(e as Error).message}`);
  }
  checks.push({ ok: true, text: `Checkpoint of ${cp.origin} at tree size ${cp.size} is signed by the log's key.` });
  if (receipt.treeSize !== cp.size) return fail(`The receipt claims tree size ${receipt.treeSize}, the checkpoint says ${cp.size}.`);
  if (receipt.entries.length === 0) return fail('The receipt holds no entry covered by the checkpoint.');
  for (const e of receipt.entries) {
    const bytes = enc.encode(e.entry);
    const leaf = await sha256(concat(new Uint8Array([0]), bytes));
    const given = strictBase64(e.leafHash);
    if (!given || !equal(given, leaf)) return fail(`Entry ${e.seq}: its bytes do not hash to the leaf hash given.`);
    let parsed: { seq?: unknown; actionId?: unknown };
    try {
      parsed = JSON.parse(e.entry) as typeof parsed;
    } catch {
      return fail(`Entry ${e.seq}: not JSON.`);
    }
    if (parsed.seq !== e.seq) return fail(`Entry ${e.seq}: its bytes say sequence number ${String(parsed.seq)}.`);
    if (parsed.actionId !== receipt.actionId) return fail(`Entry ${e.seq}: it belongs to another action.`);
    const proof = e.proof.map(strictBase64);
    if (proof.some((p) => !p)) return fail(`Entry ${e.seq}: the proof is not base64.`);
    const root = await rootFromInclusion(e.seq, cp.size, leaf, proof as Uint8Array[]);
    if (!root || !equal(root, cp.root)) return fail(`Entry ${e.seq}: the inclusion proof does not lead to the checkpoint's root.`);
    checks.push({ ok: true, text: `Entry ${e.seq} is in the log: its inclusion proof leads to the signed root.` });
  }
  if (receipt.pending.length) checks.push({ ok: true, text: `Entries ${receipt.pending.join(', ')} are newer than the checkpoint (not checked yet).` });
  return { ok: true, checks };
}
