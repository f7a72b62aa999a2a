/**
 * Command-line options for the example scripts: numbers checked once, here,
 * so a bad value gets one sentence and exit 2 instead of a run that trains
 * on NaN.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** What a numeric option may hold. */
export type NumberKind = 'count' | 'whole' | 'positive' | 'fraction' | 'number';

const RULES: Record<NumberKind, { ok: (v: number) => boolean; says: string }> = {
  count: { ok: (v) => Number.isInteger(v) && v >= 1, says: 'a whole number of at least 1' },
  whole: { ok: (v) => Number.isInteger(v) && v >= 0, says: 'a whole number (0 or more)' },
  positive: { ok: (v) => Number.isFinite(v) && v > 0, says: 'a number above 0' },
  fraction: { ok: (v) => Number.isFinite(v) && v >= 0 && v < 1, says: 'a number from 0 up to (not including) 1' },
  number: { ok: (v) => Number.isFinite(v), says: 'a number' },
};

/** Numeric options ([kind, default]) and string or boolean options (their defaults). */
export interface ExampleOptionSpec<N extends string, S extends string, B extends string> {
  numbers: Record<N, [NumberKind, number]>;
  strings?: Record<S, string>;
  flags?: Record<B, boolean>;
}

/**
 * Parses process.argv for `script`: unknown options and bad numbers print one
 * sentence and exit with 2 (a usage error).
 */
export function exampleArgs<N extends string, S extends string = never, B extends string = never>(
  script: string,
  spec: ExampleOptionSpec<N, S, B>,
): Record<N, number> & Record<S, string> & Record<B, boolean> {
  const fail = (msg: string): never => {
    console.error(`${script}: ${msg}`);
    process.exit(2);
  };
  const options: Record<string, { type: 'string' | 'boolean'; default: string | boolean }> = {};
  for (const [k, [, d]] of Object.entries(spec.numbers) as [string, [NumberKind, number]][]) options[k] = { type: 'string', default: String(d) };
  for (const [k, d] of Object.entries(spec.strings ?? {}) as [string, string][]) options[k] = { type: 'string', default: d };
  for (const [k, d] of Object.entries(spec.flags ?? {}) as [string, boolean][]) options[k] = { type: 'boolean', default: d };
  let values: Record<string, string | boolean | undefined> = {};
  try {
    // `--lr -1` would read as a missing value followed by an option; join it so the rule below can say what is wrong with -1
    const argv = process.argv.slice(2);
    const args = argv.flatMap((a, i) =>
      /^-[\d.]/.test(a) && i > 0 && argv[i - 1].slice(2) in spec.numbers
        ? []
        : a.slice(2) in spec.numbers && /^-[\d.]/.test(argv[i + 1] ?? '')
          ? [`${a}=${argv[i + 1]}`]
          : [a],
    );
    values = parseArgs({ args, options, strict: true }).values as typeof values;
  } catch (e) {
    fail(
      `${(e as Error).message.replace(/\.$/, '')}; the options are ${Object.keys(options)
        .map((k) => `--${k}`)
        .join(', ')}`,
    );
  }
  const out: Record<string, number | string | boolean> = {};
  for (const [k, [kind]] of Object.entries(spec.numbers) as [string, [NumberKind, number]][]) {
    const raw = String(values[k]);
    const v = raw.trim() === '' ? NaN : Number(raw);
    if (!RULES[kind].ok(v)) fail(`--${k} must be ${RULES[kind].says}, got '${raw}'`);
    out[k] = v;
  }
  for (const k of [...Object.keys(spec.strings ?? {}), ...Object.keys(spec.flags ?? {})]) out[k] = values[k] as string | boolean;
  return out as Record<N, number> & Record<S, string> & Record<B, boolean>;
}

/** The UTF-8 text at `path` (a script's --data), or one sentence and exit 1 when it cannot be read. */
export function readExampleText(script: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    console.error(`${script}: cannot read '${path}' (${(e as NodeJS.ErrnoException).code}); give a UTF-8 text file with --data`);
    process.exit(1);
  }
}
