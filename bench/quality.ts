/**
 * `npm run bench:quality`: time to quality. Each entry trains a character
 * model on tinyshakespeare for the same training time (`--minutes`, default
 * 10) and reports the validation loss it reaches, every entry on the same
 * split (the last 10% of the text held out) and scored the same way (the
 * whole split as stateful windows, recur's evaluateLoss). Evaluations every
 * `--eval-seconds` of training pause the clock, so they cost no entry any
 * training time. The entries:
 *   default   recur train's defaults (what `recur train text.txt` builds);
 *   best      recur's best configuration measured so far (BEST below; while
 *             that is the defaults, the default entry's run);
 *   previous  the defaults before the best configuration became them;
 *   torch     PyTorch's nn.LSTM with the default entry's model and training
 *             (bench/peers/torch_quality.py), when /usr/bin/python3 has torch.
 * Prints one line per entry and writes validation loss against training
 * time as an SVG (`--svg`, default docs/quality.svg). Never asserts.
 *   npm run bench:quality [-- --minutes 10] [--entries default,best,previous,torch] [--eval-seconds 30] [--svg docs/quality.svg] [--json]
 *     [--best-config '{"hidden":256}'] [--best-options '{"lr":0.002}']   (try a candidate as the best entry)
 */
import '../src/node/wasm-features.js';
import '../src/node/threads.js';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  CharTokenizer,
  defaultLMConfig,
  defaultTrainOptions,
  evaluateLoss,
  splitIds,
  trainLM,
  type LanguageModel,
  type LanguageModelConfig,
  type TrainOptions,
} from '../src/index.js';
import { lineChart } from '../src/cli/svg.js';
import { writeFileAtomic } from '../src/cli/files.js';

/** A recur entry's model and training, merged onto the defaults, and the flags that give them to `recur train`. */
interface RecurSetup {
  config: Omit<LanguageModelConfig, 'vocabSize'>;
  options: Partial<TrainOptions>;
  flags: string;
}

/**
 * recur's best configuration for ten minutes on this kind of machine, from
 * the runs in docs/benchmarks.md ("Time to quality"): the entry to beat. It
 * is now the defaults (a 2 x 256 LSTM, dropout 0.2, lr 5e-3 with warm-up and
 * a cosine decay), so the best entry is the default entry's run; give a
 * candidate with --best-config / --best-options.
 */
export const BEST: RecurSetup = { config: defaultLMConfig, options: {}, flags: '' };

/** The defaults before they became the best configuration (2026-12-03), so the chart shows what the change bought. */
export const PREVIOUS: RecurSetup = {
  config: { ...defaultLMConfig, hidden: 128, dropout: 0.1 },
  options: { lr: 3e-3, schedule: 'exponential', lrDecay: 0.85, warmup: 0 },
  flags: '--hidden 128 --dropout 0.1 --lr 0.003 --schedule exponential --lr-decay 0.85 --warmup 0',
};

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    entries: { type: 'string', default: 'default,best,previous,torch' },
    'eval-seconds': { type: 'string', default: '30' },
    svg: { type: 'string', default: fileURLToPath(new URL('../docs/quality.svg', import.meta.url)) },
    json: { type: 'boolean', default: false },
    // a candidate for the best entry, as JSON merged onto the defaults: '{"hidden":256,"dropout":0.2}' and '{"lr":0.002}'
    'best-config': { type: 'string' },
    'best-options': { type: 'string' },
  },
});
if (values['best-config'] || values['best-options']) {
  const config = JSON.parse(values['best-config'] ?? '{}') as Partial<LanguageModelConfig>;
  const options = JSON.parse(values['best-options'] ?? '{}') as Partial<TrainOptions>;
  BEST.config = { ...defaultLMConfig, ...config };
  BEST.options = options;
  BEST.flags = `config ${JSON.stringify(config)} options ${JSON.stringify(options)}`;
}
const minutes = Number(values.minutes),
  evalSeconds = Number(values['eval-seconds']);
if (!(minutes > 0) || !(evalSeconds > 0)) {
  console.error('bench:quality: --minutes and --eval-seconds must be numbers above 0');
  process.exit(2);
}
const entries = values.entries!.split(',').filter(Boolean);
for (const e of entries) {
  if (!['default', 'best', 'previous', 'torch'].includes(e)) {
    console.error(`bench:quality: unknown entry '${e}'; the entries are default, best, previous, torch`);
    process.exit(2);
  }
}

const textPath = fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url));
const text = readFileSync(textPath, 'utf8');
const vocab = CharTokenizer.fromTexts(text);
const ids = vocab.encode(text);
const VAL_FRAC = defaultTrainOptions.valFrac;
const split = splitIds(ids, VAL_FRAC);

interface Curve {
  entry: string;
  describe: string;
  /** Training seconds and the validation loss then. */
  points: [number, number][];
  steps: number;
  charsPerSec: number;
}

async function recurEntry(entry: string, config: Omit<LanguageModelConfig, 'vocabSize'>, extra: Partial<TrainOptions>, flags: string): Promise<Curve> {
  const options: TrainOptions = { ...defaultTrainOptions, ...extra, seconds: minutes * 60, evalEvery: 0, sampleEvery: 0 };
  let model: LanguageModel | null = null;
  let trained = 0,
    nextEval = evalSeconds,
    steps = 0,
    charsPerSec = 0;
  const points: [number, number][] = [];
  const score = (): number => evaluateLoss(model!, split.val, options.batch, options.seq);
  const res = await trainLM(
    { ids, vocab, config, options },
    {
      onStart: (m) => {
        model = m;
      },
      onStep: (s) => {
        trained = s.seconds;
        steps = s.step;
        charsPerSec = s.charsPerSec;
      },
      // an evaluation inside the pause, so the clock does not count it
      waitIfPaused: () => {
        if (trained < nextEval) return;
        nextEval += evalSeconds;
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            points.push([trained, score()]);
            resolve();
          }, 0),
        );
      },
    },
  );
  points.push([res.progress.seconds, res.finalEval!.valLoss]);
  return { entry, describe: `recur ${flags || '(the defaults)'}`, points, steps, charsPerSec };
}

function torchEntry(): Curve | null {
  const python = '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.error('bench:quality: skipping the torch entry: /usr/bin/python3 cannot import torch (apt-get install python3-torch)');
    return null;
  }
  const o = defaultTrainOptions,
    c = defaultLMConfig;
  const args = [
    fileURLToPath(new URL('./peers/torch_quality.py', import.meta.url)),
    ...['--data', textPath, '--minutes', String(minutes), '--eval-seconds', String(evalSeconds), '--val-frac', String(VAL_FRAC)],
    ...['--layers', String(c.layers), '--hidden', String(c.hidden), '--embed', String(c.embed), '--dropout', String(c.dropout)],
    ...['--batch', String(o.batch), '--seq', String(o.seq), '--lr', String(o.lr), '--clip', String(o.clip)],
    ...['--schedule', o.schedule, '--lr-decay', String(o.lrDecay), '--lr-min', String(o.lrMin), '--warmup', String(o.warmup)],
  ];
  type Line = { seconds?: number; val_loss?: number; steps?: number; chars_per_s?: number; threads?: number };
  const run = (threads: number, blas: number, extra: string[]): Line[] => {
    // OpenBLAS picks its own thread count when not told, and with torch's threads on top it oversubscribes the cores
    const r = spawnSync(python, [...args, '--threads', String(threads), ...extra], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      env: { ...process.env, OPENBLAS_NUM_THREADS: String(blas) },
    });
    if (r.status !== 0) throw new Error(`torch_quality.py failed: ${r.stderr}`);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
  };
  // PyTorch's best setting on this machine: a few seconds of each, as the speed benchmark compares against its best
  const settings: [number, number][] = [
    [1, 1],
    [1, 2],
    [2, 1],
  ];
  const speed = settings.map(([t, b]) => run(t, b, ['--minutes', '0.1', '--eval-seconds', '1000']).at(-1)!.chars_per_s!);
  const [threads, blas] = settings[speed.indexOf(Math.max(...speed))];
  const lines = run(threads, blas, []);
  const done = lines[lines.length - 1];
  return {
    entry: 'torch',
    describe: `PyTorch nn.LSTM, the default entry's model and training (${threads} thread${threads > 1 ? 's' : ''}, OpenBLAS ${blas})`,
    points: lines.filter((l) => l.seconds !== undefined).map((l) => [l.seconds!, l.val_loss!]),
    steps: done.steps!,
    charsPerSec: done.chars_per_s!,
  };
}

const curves: Curve[] = [];
// while the best configuration is the defaults, the best entry is the default entry's run, not a second one
const bestIsDefault = JSON.stringify(BEST.config) === JSON.stringify(defaultLMConfig) && Object.keys(BEST.options).length === 0;
for (const e of entries) {
  const ran = curves.find((c) => c.entry === 'default');
  const curve =
    e === 'default'
      ? await recurEntry('default', defaultLMConfig, {}, '')
      : e === 'best'
        ? bestIsDefault && ran
          ? { ...ran, entry: 'best', describe: "recur's defaults, the best configuration found (the default entry's run)" }
          : await recurEntry('best', BEST.config, BEST.options, BEST.flags)
        : e === 'previous'
          ? await recurEntry('previous', PREVIOUS.config, PREVIOUS.options, PREVIOUS.flags)
          : torchEntry();
  if (!curve) continue;
  curves.push(curve);
  const last = curve.points[curve.points.length - 1];
  if (values.json) console.log(JSON.stringify({ ...curve, valLoss: last[1] }));
  else
    console.log(
      `${curve.entry.padEnd(8)} validation loss ${last[1].toFixed(4)} nats/char after ${last[0].toFixed(0)} s of training, ${curve.steps} steps, ${Math.round(curve.charsPerSec).toLocaleString('en-US')} chars/s: ${curve.describe}`,
    );
}

const COLORS: Record<string, string> = { default: '#1f77b4', best: '#d62728', previous: '#2ca02c', torch: '#7f7f7f' };
const svg = lineChart(
  // the best entry's line would lie on the default's when they are one run
  curves
    .filter((c) => !(c.entry === 'best' && bestIsDefault))
    .map((c) => ({ label: `${c.entry}: ${c.describe}`, x: c.points.map((p) => p[0] / 60), y: c.points.map((p) => p[1]), color: COLORS[c.entry] })),
  {
    title: `Validation loss on tinyshakespeare against training time (${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
    xLabel: 'minutes of training (evaluations excluded)',
    yLabel: 'validation loss, nats/char',
  },
);
writeFileAtomic(values.svg!, new TextEncoder().encode(svg));
// the curves beside the chart, so a figure can be checked or redrawn without training again
writeFileAtomic(
  values.svg!.replace(/\.svg$/, '') + '.json',
  new TextEncoder().encode(JSON.stringify({ date: new Date().toISOString(), minutes, curves }, null, 1) + '\n'),
);
if (!values.json) console.log(`wrote ${values.svg}`);
