import type { VerifierKey } from '../../domain/signed-note.js';
import type { BundleManifest } from './verify-plans.js';

/** The README of an evidence bundle: what it holds, how to check it, what it proves and what it does not. */
export function bundleReadme(x: { manifest: BundleManifest; keys: readonly VerifierKey[]; version: string; contextEntries: number; unsigned: number }): string {
  const m = x.manifest;
  const { start, end } = m.range;
  return `# Countersign audit evidence bundle

Log: \`${m.origin}\`. Entries ${start} to ${end - 1} (${end - start} entries)${m.range.since ? `, from ${m.range.since}` : ''}${m.range.until ? `, until ${m.range.until}` : ''}.
Exported ${m.createdAt} by Countersign ${x.version}.${x.unsigned > 0 ? ` ${x.unsigned} later entries were not yet covered by a signed checkpoint and are not included.` : ''}

Start with \`summary.md\` (decisions, reviews, approvers, policy versions, time to approval):
the verification below rebuilds it and \`summary.json\` from the verified entries and
fails if either differs from them by a byte.
This file tells you how to check that the bundle is what the log recorded, without
trusting the operator of the gateway and without access to it.

## Verify it

1. **Get the log's verifier key from the operator, through a channel you trust** (their
   published documentation, a signed email, your ticket). It looks like
   \`${x.keys[0]?.text ?? '<name>+<key id>+<key>'}\`.
   The key in \`keys/log.vkey\` came with the bundle: compare it with the one you got;
   a bundle checked only against its own key proves nothing.
2. Run, anywhere Countersign is installed (no server and no database needed):

   \`\`\`sh
   countersign audit verify --bundle . --key '<the verifier key you got>'
   \`\`\`

   Add \`--witness DIR\` for each witness folder you have access to (copies of the log's
   checkpoints kept outside its database), \`--known-checkpoint FILE\` for each signed
   checkpoint of this log you kept from before (from an earlier bundle, a receipt or the
   gateway's \`GET /v1/audit/checkpoint\`: the bundle must agree with it and not be
   shorter), and \`--json\` for a machine-readable report.
3. Keep the newest file of \`checkpoints/\`: with \`--known-checkpoint\`, it lets you check
   that later bundles extend this one rather than cut or rewrite it.

Exit codes: **0** verified; **3** tampering (the entries, the tree or the signatures are
not what the log signed, or an entry is not covered by a signed checkpoint in the
bundle: export writes only signed entries, so an uncovered one was added or changed; or
\`summary.md\` or \`summary.json\` is missing or says other than the entries); **4** governance violation (the log is intact and records
something the gate must never allow, such as an execution without the required
approvals); **1** the check could not run; **2** bad usage. On failure the report names
the first bad entry (sequence number, what is wrong, expected against found).

## What is checked

- Every line of \`entries.jsonl\` is one entry's exact bytes (RFC 8785 canonical JSON); its
  RFC 9162 leaf hash is SHA-256(0x00 || line), and the sequence number written inside it
  must be its position (${start} for the first line, then one more per line).
- The Merkle tree (RFC 9162): \`manifest.json\` gives the hashes of the tree's left part
  (\`edge\`: the entries before ${start}); with the entries, they give the root at every
  size up to ${end}, which must equal the root of every checkpoint in that range.
- Every entry must be covered by a checkpoint that the log's key signed and that agrees
  with the entries; the files in \`checkpoints/\` must be the ones \`manifest.json\` lists,
  each named for its size.
- Every checkpoint in \`checkpoints/\` (C2SP tlog-checkpoint in a C2SP signed note, Ed25519)
  must be signed by the log's key; those beyond entry ${end - 1} must be linked to the
  range by the consistency proofs in \`manifest.json\` (\`proofs\`). Cosignature lines from
  witnesses (C2SP tlog-cosignature) are checked when their keys are given
  (\`keys/witnesses.vkey\` or \`--witness-key\`).
- Governance, from the entries alone: every execution was preceded by an allow decision
  or by approvals that met every requirement, from distinct eligible humans who were
  neither the requester, the human it was for, nor the agent's owner, approving the
  decided fingerprint, before it started; nothing ran after a deny, an expiry or a
  cancel, nor twice, nor in decide mode; every decision names a policy version loaded
  before it. \`context.jsonl\` holds the ${x.contextEntries} earlier entries these checks need
  (policies loaded before the range, earlier entries of the actions in it), each with
  its inclusion proof in the tree of ${end} entries.
- \`summary.md\` and \`summary.json\` are rebuilt from the verified entries (context, then
  range) and must equal the files here byte for byte.

## Checking it with other tools

Nothing here is specific to Countersign: entries are canonical JSON, the tree is RFC 9162
(SHA-256), checkpoints are C2SP tlog-checkpoints signed as C2SP signed notes, so any
conforming implementation (for example Go's \`golang.org/x/mod/sumdb/note\` and
\`github.com/transparency-dev/merkle\`) can verify the signatures and proofs.

## What it proves, and what it does not

- It proves that these entries are, byte for byte and in this order, part of the log
  whose checkpoints the key signed, and that the log signed nothing inconsistent with
  them up to its latest checkpoint.
- It does not prove that the key belongs to the operator (step 1 does), nor that the
  operator did not rewrite the whole log and re-sign it before exporting: checkpoints
  kept by witnesses outside the operator's reach (\`--witness\`) or cosigned by them
  detect that.
- Reviewer identities and groups are as the gateway's identity provider presented them.
`;
}
