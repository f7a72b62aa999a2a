/** The `recur` subcommands: train, sample, eval, info. */
import cliProgress from 'cli-progress';
import { TOKEN_NOUNS, type LMTokenizer } from '../text/tokenizers.js';
import { sampleText } from '../generate/sample.js';
import { evaluateLoss, trainLM, defaultTrainOptions, textLengthProblem, type EvalInfo, type TrainOptions } from '../train/trainer.js';
import { describeArchitecture, type CellType, type LanguageModelConfig } from '../models/charlm.js';
import { prepareOutput, readCheckpoint, readCorpusFile, writeFileAtomic } from './files.js';
import { stdout } from './output.js';
import { UserError } from './errors.js';
import { codePointLabel } from '../data/text.js';
import { CELL_KINDS } from '../nn/rnn/kinds.js';

const fmtTime = (s: number): string => {
  if (!Number.isFinite(s)) return '--';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
};

export interface TrainFlags {
  model: CellType;
  layers: number;
  hidden: number;
  embed: number;
  /** The residual block form (LanguageModelConfig.blocks). */
  blocks?: boolean;
  /** LSTM: the constant on the forget gate's pre-activation (LanguageModelConfig.forgetBias). */
  forgetBias?: number;
  /** LSTM: peephole weights (LanguageModelConfig.peepholes). */
  peepholes?: boolean;
  dropout: number;
  batch: number;
  seq: number;
  lr: number;
  optimizer: TrainOptions['optimizer'];
  rmspropDecay: number;
  clip: number;
  clipValue: number;
  lossSum: boolean;
  schedule: TrainOptions['schedule'];
  lrDecay: number;
  lrMin: number;
  warmup: number;
  epochs?: number;
  minutes?: number;
  steps?: number;
  valFrac: number;
  evalEvery: number;
  evalChars: number;
  sampleEvery: number;
  out: string;
  resume?: string;
  seed: number;
  quiet?: boolean;
  /** Keep '\r' line ends instead of reading them as LF. */
  keepCr?: boolean;
  /** 'char' (default) or 'word'. */
  tokens?: 'char' | 'word';
  /** Word models: words seen fewer times become <unk>. */
  minCount?: number;
  /** The options the user gave on the command line (the rest are defaults). */
  explicit?: ReadonlySet<string>;
}

/** What one token is called in messages (nats/char, words/s): its kind. */
const unitOf = (v: LMTokenizer): string => v.kind;

/** Which part of the validation split an evaluation scored, e.g. "first 250,000 of 5,019,870 validation chars". */
const evalScope = (e: EvalInfo, unit: string): string => {
  const n = (k: number): string => k.toLocaleString('en-US');
  return e.evalChars < e.valChars ? `first ${n(e.evalChars)} of ${n(e.valChars)} validation ${unit}s` : `all ${n(e.valChars)} validation ${unit}s`;
};

/** The model's shape options: on --resume they come from the checkpoint, and a flag that disagrees is a usage error. */
const ARCHITECTURE = ['model', 'layers', 'hidden', 'embed', 'blocks', 'forgetBias', 'peepholes'] as const;
/** Training options a resumed run takes from its checkpoint unless given again (then the banner says what changed). */
const RESUMABLE = [
  'batch',
  'seq',
  'lr',
  'optimizer',
  'rmspropDecay',
  'clip',
  'clipValue',
  'lossSum',
  'schedule',
  'lrDecay',
  'lrMin',
  'warmup',
  'valFrac',
  'evalEvery',
  'evalChars',
  'sampleEvery',
] as const;
/** Option names as the user types them. */
const flagName = (k: string): string => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
/** Numbers as people read them: 0.0015660187499999998 is 0.001566. */
export const human = (v: unknown): string => (typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(4))) : String(v));

/** An architecture option as the user would type it: --blocks and --peepholes are switches. */
const flagText = (k: (typeof ARCHITECTURE)[number], v: unknown): string => (k === 'blocks' || k === 'peepholes' ? flagName(k) : `${flagName(k)} ${v}`);

/** A checkpoint's value of an architecture option; a config from before an option has none, which means its default. */
function savedArchitecture(c: LanguageModelConfig, k: (typeof ARCHITECTURE)[number]): unknown {
  if (k === 'blocks' || k === 'peepholes') return c[k] === true;
  if (k === 'forgetBias') return c.forgetBias ?? 0;
  return c[k];
}

/** The model the flags describe, for a new run: with --blocks the embedding is as wide as the model. */
function configFromFlags(f: TrainFlags, explicit: ReadonlySet<string>): Omit<LanguageModelConfig, 'vocabSize'> {
  const blocks = f.blocks === true;
  if (blocks && explicit.has('embed') && f.embed !== f.hidden) {
    throw new UserError(`--embed ${f.embed} disagrees with --blocks, whose embedding is as wide as the model (--hidden ${f.hidden}); leave --embed out`, 2);
  }
  const spec = CELL_KINDS[f.model];
  for (const k of ['forgetBias', 'peepholes'] as const) {
    if (explicit.has(k) && !spec.tfOptions) throw new UserError(`${flagName(k)} is an LSTM option, and --model ${f.model} is ${spec.article}; leave it out`, 2);
  }
  // written only when used, so that other models' checkpoints stay readable by a recur from before these options
  const lstm = { ...(f.forgetBias ? { forgetBias: f.forgetBias } : {}), ...(f.peepholes ? { peepholes: true } : {}) };
  return { model: f.model, layers: f.layers, hidden: f.hidden, embed: blocks ? f.hidden : f.embed, dropout: f.dropout, blocks, ...lstm };
}

/** Share of word tokens that are <unk> above which a resumed run refuses the text: it is not the text the model learned. */
const MAX_RESUME_UNKNOWN = 0.2;

/** Train (or resume); resolves to the exit code: 0, or 130 when stopped by Ctrl-C (after writing the checkpoint). */
export async function trainCommand(file: string, f: TrainFlags): Promise<number> {
  const explicit = f.explicit ?? new Set<string>();
  // the output is checked before any work, so a long run never ends in an unwritable path
  const out = prepareOutput(f.out, '--out', [{ path: file, what: 'training text' }]);
  const resume = f.resume ? readCheckpoint(f.resume) : undefined;
  if (resume && f.tokens !== undefined && f.tokens !== resume.vocab.kind) {
    throw new UserError(`the checkpoint is a ${resume.vocab.kind}-level model; resume it with --tokens ${resume.vocab.kind} (or leave --tokens out)`, 2);
  }
  const changed: string[] = [];
  let flags: TrainFlags = f;
  if (resume) {
    const rc = resume.model.config;
    for (const k of ARCHITECTURE) {
      const saved = savedArchitecture(rc, k);
      if (explicit.has(k) && f[k] !== saved) {
        throw new UserError(
          `${flagText(k, f[k])} disagrees with the checkpoint '${f.resume}', a ${describeArchitecture(rc)}; a resumed model keeps its architecture (leave ${flagName(k)} out)`,
          2,
        );
      }
    }
    if (explicit.has('minCount'))
      throw new UserError(`--min-count sets the vocabulary of a new word model; a resumed model keeps its checkpoint's vocabulary (leave --min-count out)`, 2);
    // the checkpoint's training options, unless given again
    const saved = resume.meta.options as Partial<Record<string, unknown>>;
    const merged: Record<string, unknown> = { ...f };
    for (const k of RESUMABLE) {
      const before = saved[k];
      if (before === undefined || typeof before !== typeof f[k]) continue;
      if (!explicit.has(k)) merged[k] = before;
      else if (before !== f[k]) changed.push(`${flagName(k)} ${human(before)} -> ${human(f[k])}`);
    }
    if (explicit.has('dropout') && f.dropout !== rc.dropout) {
      changed.push(`--dropout ${human(rc.dropout)} -> ${human(f.dropout)}`);
      resume.model.setDropout(f.dropout);
    }
    flags = merged as unknown as TrainFlags;
  }
  // a character model refuses characters it lacks (readCorpusFile says which); a word model reads them as <unk>
  const { ids, vocab } = readCorpusFile(file, { keepCr: f.keepCr, vocab: resume?.vocab, tokens: f.tokens, minCount: f.minCount ?? 2 });
  if (resume && vocab.unknown !== null) {
    const share = unknownShareOfIds(ids, vocab.id(vocab.unknown));
    if (share > MAX_RESUME_UNKNOWN) {
      throw new UserError(
        `${pct(share)} of the ${TOKEN_NOUNS[vocab.kind]} of '${file}' are outside the checkpoint's vocabulary (${vocab.unknown}), more than ${pct(MAX_RESUME_UNKNOWN)}; ` +
          'resume on the text the model was trained on, or train a new model on this one',
      );
    }
  }
  const unit = unitOf(vocab);
  if (flags.epochs !== undefined && flags.minutes !== undefined) throw new UserError('give either --epochs or --minutes, not both', 2);
  if (flags.lrMin > flags.lr)
    throw new UserError(`--lr-min ${human(flags.lrMin)} is above --lr ${human(flags.lr)}; the cosine schedule decays from --lr down to --lr-min`, 2);
  const options: TrainOptions = {
    ...defaultTrainOptions,
    batch: flags.batch,
    seq: flags.seq,
    lr: flags.lr,
    optimizer: flags.optimizer,
    rmspropDecay: flags.rmspropDecay,
    clip: flags.clip,
    clipValue: flags.clipValue,
    lossSum: flags.lossSum,
    schedule: flags.schedule,
    lrDecay: flags.lrDecay,
    lrMin: flags.lrMin,
    warmup: flags.warmup,
    epochs: flags.epochs ?? (flags.minutes === undefined && flags.steps === undefined ? 1 : 0),
    seconds: (flags.minutes ?? 0) * 60,
    steps: flags.steps ?? 0,
    valFrac: flags.valFrac,
    evalEvery: flags.evalEvery,
    evalChars: flags.evalChars,
    sampleEvery: flags.sampleEvery,
    seed: flags.seed,
  };
  const tooShort = textLengthProblem(ids.length, options, `'${file}'`, TOKEN_NOUNS[vocab.kind]);
  if (tooShort) throw new UserError(tooShort);
  const config = resume ? resume.model.config : configFromFlags(f, explicit);
  const tty = process.stderr.isTTY && !f.quiet;
  const multibar = !tty
    ? null
    : new cliProgress.MultiBar(
        {
          format: ` {bar} {percentage}% | step {step} | epoch {epochf} | loss {loss} | val {val} | {cps} ${unit}s/s | ETA {eta2}`,
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          noTTYOutput: false,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
  const bar = multibar ? multibar.create(1000, 0, { step: 0, epochf: '0.00', loss: '-', val: '-', cps: '-', eta2: '--' }) : null;
  // stdout may be a pipe whose reader leaves (| head): training goes on, unprinted, and still writes its checkpoints
  const log = (s: string): void => {
    const line = s.endsWith('\n') ? s : s + '\n';
    if (multibar) multibar.log(line);
    else stdout.write(line);
  };
  const budget = { epochs: options.epochs, seconds: options.seconds, steps: options.steps };
  // nothing is left out of a text read for training, so its ids are its tokens
  const size =
    `${ids.length} ${TOKEN_NOUNS[vocab.kind]}, vocabulary ${vocab.size}` +
    (vocab.kind === 'word' && !resume ? ` (words seen fewer than ${f.minCount ?? 2} times are <unk>)` : '');
  log(
    `recur: training a ${unit}-level model, ${describeArchitecture(config)}, on '${file}' (${size})` +
      (resume ? `, resuming '${f.resume}' at step ${resume.meta.progress.step}${changed.length ? ` with ${changed.join(', ')}` : ''}` : '') +
      `; checkpoints go to '${f.out}'`,
  );
  let stopRequests = 0;
  const onSigint = (): void => {
    stopRequests++;
    if (stopRequests === 1) log('recur: stopping after this step to write a checkpoint (press Ctrl-C again to quit at once)');
    else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  let lastVal: number | null = resume?.meta.progress.lastValLoss ?? null;
  let lastLoss = NaN;
  let lastCps = 0;
  const started = Date.now();
  try {
    const res = await trainLM(
      { ids, vocab, name: `'${file}'`, config, options, resume, resumeName: f.resume && `'${f.resume}'` },
      {
        onStep: (s) => {
          lastLoss = s.loss;
          lastCps = s.charsPerSec;
          if (!bar) return;
          const runSeconds = (Date.now() - started) / 1000;
          let frac = 0;
          if (budget.seconds > 0) frac = runSeconds / budget.seconds;
          else if (budget.steps > 0) frac = s.step / budget.steps;
          else if (budget.epochs > 0) frac = (s.epoch + s.epochProgress) / budget.epochs;
          frac = Math.min(1, frac);
          const eta = frac > 0 ? (runSeconds / frac) * (1 - frac) : Infinity;
          bar.update(Math.round(frac * 1000), {
            step: s.step,
            epochf: (s.epoch + s.epochProgress).toFixed(2),
            loss: s.loss.toFixed(3),
            val: lastVal === null ? '-' : lastVal.toFixed(3),
            cps: Math.round(s.charsPerSec).toLocaleString('en-US'),
            eta2: fmtTime(eta),
          });
        },
        onEval: (e) => {
          lastVal = e.valLoss;
          log(
            `step ${e.step}: val loss ${e.valLoss.toFixed(4)} nats/${unit}, perplexity ${e.perplexity.toFixed(2)}, ${e.bitsPerToken.toFixed(3)} bits/${unit} (${evalScope(e, unit)})`,
          );
        },
        onSample: (t, step) => log(`--- sample at step ${step} ---\n${t}\n---`),
        onCheckpoint: (bytes) => writeFileAtomic(out, bytes),
        shouldStop: () => stopRequests > 0,
      },
    );
    bar?.update(1000);
    multibar?.stop();
    const p = res.progress;
    stdout.write(
      `recur: done (${res.stoppedBy === 'request' ? 'stopped on request' : `reached the ${res.stoppedBy} limit`}): ${p.step} steps, ` +
        `epoch ${p.epoch}, ${fmtTime(p.seconds)} of training, train loss ${lastLoss.toFixed(4)}, ` +
        (res.finalEval
          ? `val loss ${res.finalEval.valLoss.toFixed(4)} nats/${unit} (${res.finalEval.bitsPerToken.toFixed(3)} bits/${unit}, perplexity ${res.finalEval.perplexity.toFixed(2)}; ${evalScope(res.finalEval, unit)}), `
          : 'no validation (--val-frac 0: trained on all of the text), ') +
        `${Math.round(lastCps).toLocaleString('en-US')} ${unit}s/s; saved '${f.out}'\n`,
    );
    // the shell's convention after an interrupt, now that the checkpoint is safe
    return stopRequests > 0 ? 130 : 0;
  } catch (e) {
    multibar?.stop();
    throw asUserErrorUnlessBug(e);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Errors the library raises about the user's data or options become UserErrors; a bug (TypeError and kin) stays one. */
export function asUserErrorUnlessBug(e: unknown): unknown {
  if (e instanceof UserError || e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError || e instanceof SyntaxError) return e;
  return new UserError((e as Error).message);
}

/** Share of `ids` that are the unknown token. */
function unknownShareOfIds(ids: ArrayLike<number>, unk: number): number {
  let n = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i] === unk) n++;
  return ids.length > 0 ? n / ids.length : 0;
}

const pct = (x: number): string => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

export interface SampleFlags {
  prime?: string;
  length: number;
  temperature: number;
  topK?: number;
  topP?: number;
  argmax?: boolean;
  argmaxAfterSpace?: boolean;
  seed?: number;
}

/** Thrown from the sampling callback to stop generating once nobody reads the output. */
class ReaderGone extends Error {}

export function sampleCommand(checkpoint: string, f: SampleFlags): void {
  const ck = readCheckpoint(checkpoint);
  if (f.prime !== undefined) {
    if (f.prime === '') throw new UserError('--prime is empty: give at least one character, or leave it out');
    const unknown = ck.vocab.unknownIn(f.prime);
    if (ck.vocab.unknown !== null) {
      if (ck.vocab.encode(f.prime).length === 0) throw new UserError('--prime has no words in it: give at least one word, punctuation mark or newline');
      if (unknown.size > 0)
        process.stderr.write(
          `recur: the model does not know ${[...unknown.keys()]
            .slice(0, 5)
            .map((w) => JSON.stringify(w))
            .join(', ')}; read as ${ck.vocab.unknown}\n`,
        );
    } else if (unknown.size > 0) {
      const c = [...unknown.keys()][0];
      throw new UserError(`the prime text has ${JSON.stringify(c)} (${codePointLabel(c)}), which is not in the model's vocabulary`);
    }
  }
  // a reader that leaves (| head -c 20) ends sampling quietly with exit 0, as Unix tools do
  const emit = (s: string): void => {
    if (!stdout.write(s)) throw new ReaderGone();
  };
  try {
    if (f.prime !== undefined) emit(f.prime);
    sampleText(ck.model, ck.vocab, {
      prime: f.prime,
      length: f.length,
      temperature: f.temperature,
      topK: f.topK,
      topP: f.topP,
      argmax: f.argmax,
      argmaxExceptAfterSpace: f.argmaxAfterSpace,
      seed: f.seed ?? Date.now() % 2 ** 31,
      onChar: emit,
    });
    emit('\n');
  } catch (e) {
    if (!(e instanceof ReaderGone)) throw e;
  }
}

export function evalCommand(checkpoint: string, file: string, f: { batch: number; seq: number; keepCr?: boolean }): void {
  const ck = readCheckpoint(checkpoint);
  // unknown words are scored as <unk> (any tokenizer's unknown token), as word-level perplexities usually are; unknown characters are skipped and listed
  const { ids, unknown, chars } = readCorpusFile(file, { keepCr: f.keepCr, vocab: ck.vocab, unknown: 'skip' });
  let skipped = 0;
  for (const n of unknown.values()) skipped += n;
  const vocab = ck.vocab;
  const scored = vocab.unknown !== null;
  const unit = unitOf(vocab);
  const noun = TOKEN_NOUNS[vocab.kind];
  const share = scored ? unknownShareOfIds(ids, vocab.id(vocab.unknown!)) : chars > 0 ? skipped / chars : 0;
  // the figure means little when much of the text is unknown to the model: say so first
  if (share > 0.01)
    stdout.write(`note: ${pct(share)} of the ${noun} of '${file}' are outside the model's vocabulary (${scored ? `scored as ${vocab.unknown}` : 'skipped'})\n`);
  if (ids.length < 2) throw new UserError(`'${file}' has fewer than two ${noun}${scored ? '' : ' the model knows'}; nothing to evaluate`);
  const loss = evaluateLoss(ck.model, ids, f.batch, f.seq);
  stdout.write(
    `loss ${loss.toFixed(4)} nats/${unit}, perplexity ${Math.exp(loss).toFixed(3)}, ${(loss / Math.LN2).toFixed(4)} bits/${unit} over ${ids.length} ${noun}\n`,
  );
  const unknownCount = Math.round(share * ids.length);
  if (scored && unknownCount > 0) stdout.write(`${unknownCount} of them are outside the model's vocabulary, scored as ${vocab.unknown}\n`);
  if (skipped > 0) {
    const list = [...unknown.entries()]
      .slice(0, 8)
      .map(([c, n]) => `${JSON.stringify(c)} x${n}`)
      .join(', ');
    stdout.write(`skipped ${skipped} character(s) outside the model's vocabulary: ${list}\n`);
  }
}

export function infoCommand(checkpoint: string): void {
  const ck = readCheckpoint(checkpoint);
  const c = ck.model.config;
  const p = ck.meta.progress;
  const unit = unitOf(ck.vocab);
  const lines = [
    `model: ${describeArchitecture(c)}, dropout ${human(c.dropout)}`,
    `vocabulary: ${ck.vocab.size} ${ck.vocab.kind === 'word' ? 'word tokens (words, punctuation, spacing, <unk>)' : 'characters'}`,
    `parameters: ${ck.model.numParameters().toLocaleString('en-US')}`,
    `trained: ${p.step} steps, epoch ${p.epoch}, ${fmtTime(p.seconds)}${ck.optimizer ? `, optimizer ${ck.optimizer.type} (lr ${human(ck.optimizer.options.lr)})` : ''}`,
    `last validation loss: ${p.lastValLoss === null ? 'none' : `${p.lastValLoss.toFixed(4)} nats/${unit} (${(p.lastValLoss / Math.LN2).toFixed(3)} bits/${unit}, perplexity ${Math.exp(p.lastValLoss).toFixed(2)})`}`,
  ];
  stdout.write(lines.join('\n') + '\n');
}
