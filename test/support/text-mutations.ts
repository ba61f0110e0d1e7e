import fc from 'fast-check';

// Mutations of a whole text file (a policy, a config, a file of an evidence bundle) for
// the property tests that hand files to the CLI: byte-level (flip, insert, delete,
// truncate), line-level (delete, duplicate, swap, re-indent) and hostile YAML/JSON
// fragments spliced in (anchors, tags, merge keys, deep nesting, huge numbers).

const HOSTILE = [
  '*a',
  '&a [*a, *a]',
  '<<: *x',
  '!!js/function "f(){}"',
  '!!binary AAAA',
  '? [a]\n: b',
  '{',
  ']',
  '"\\u0000"',
  '\u0000',
  '\ud800',
  '\t',
  '---',
  '...',
  '%YAML 1.1',
  '1e400',
  '-0',
  '0x10',
  '.nan',
  '~',
  'null',
  '__proto__',
  '{"__proto__": {"polluted": 1}}',
  'constructor',
  `${'['.repeat(200)}${']'.repeat(200)}`,
  'a'.repeat(10_000),
  '${UNSET_VARIABLE_XYZ}',
  '${',
  'size(x) > 0 && x.matches("(a+)+$")',
  '"1" + 1',
  '1 / 0',
];

export type TextMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'line-delete'; line: number }
  | { kind: 'line-duplicate'; line: number }
  | { kind: 'line-swap'; line: number; other: number }
  | { kind: 'line-indent'; line: number; by: number }
  | { kind: 'splice'; line: number; text: string };

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...HOSTILE)) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('line-delete' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('line-duplicate' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('line-swap' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('line-indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ kind: fc.constant('splice' as const), line: fc.nat(), text: fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 20 })) }),
);

/** One to three mutations in a row. */
export const textMutations = fc.array(textMutation, { minLength: 1, maxLength: 3 });

export function applyTextMutation(bytes: Buffer, m: TextMutation): Buffer {
  const n = bytes.length;
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return bytes;
      const copy = Buffer.from(bytes);
      copy[m.at % n] = copy[m.at % n]! ^ (1 << m.bit);
      return copy;
    }
    case 'insert': {
      const i = m.at % (n + 1);
      return Buffer.concat([bytes.subarray(0, i), Buffer.from(m.text), bytes.subarray(i)]);
    }
    case 'delete': {
      const i = m.at % (n + 1);
      return Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + m.length)]);
    }
    case 'truncate':
      return bytes.subarray(0, m.at % (n + 1));
    case 'line-delete':
    case 'line-duplicate':
    case 'line-swap':
    case 'line-indent':
    case 'splice':
      return Buffer.from(mutateLines(bytes.toString('utf8').split('\n'), m).join('\n'));
  }
}

type LineMutation = Extract<TextMutation, { line: number }>;

function mutateLines(lines: string[], m: LineMutation): string[] {
  const out = [...lines];
  const i = m.line % out.length;
  switch (m.kind) {
    case 'line-delete':
      out.splice(i, 1);
      break;
    case 'line-duplicate':
      out.splice(i, 0, out[i]!);
      break;
    case 'line-swap': {
      const j = m.other % out.length;
      [out[i], out[j]] = [out[j]!, out[i]!];
      break;
    }
    case 'line-indent':
      out[i] = m.by >= 0 ? ' '.repeat(m.by) + out[i]! : out[i]!.slice(-m.by);
      break;
    case 'splice': {
      // After the first colon (a value) when the line has one, else as a line of its own.
      const line = out[i]!;
      const colon = line.indexOf(': ');
      if (colon >= 0) out[i] = `${line.slice(0, colon + 2)}${m.text}`;
      else out.splice(i, 0, m.text);
      break;
    }
  }
  return out;
}

export const applyTextMutations = (bytes: Buffer, ms: readonly TextMutation[]): Buffer => ms.reduce(applyTextMutation, bytes);

/** A stack frame in a CLI's output means an exception nobody caught and explained. */
export const STACK_TRACE = /^\s+at .+(:\d+:\d+\)?|\(node:[^)]+\))$/m;
