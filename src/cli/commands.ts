/** The `recur` subcommands: train, sample, eval, info. */
import cliProgress from 'cli-progress';
import type { LMTokenizer } from '../text/tokenizers.js';
import { sampleText } from '../generate/sample.js';
import { evaluateLoss, trainCharLM, defaultTrainOptions, textLengthProblem, type EvalInfo, type TrainOptions } from '../train/trainer.js';
import type { CellType } from '../models/charlm.js';
import { readCheckpoint, readCorpusFile, writeFileAtomic } from './files.js';
import { UserError } from './errors.js';

const fmtTime = (s: number): string => {
  if (!Number.isFinite(s)) return '--';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
};

export interface TrainFlags {
  model: CellType; layers: number; hidden: number; embed: number; dropout: number;
  batch: number; seq: number; lr: number; optimizer: TrainOptions['optimizer']; clip: number; lrDecay: number;
  epochs?: number; minutes?: number; steps?: number; valFrac: number; evalEvery: number; evalChars: number; sampleEvery: number;
  out: string; resume?: string; seed: number; quiet?: boolean;
  /** Keep '\r' line ends instead of reading them as LF. */
  keepCr?: boolean;
  /** 'char' (default) or 'word'. */
  tokens?: 'char' | 'word';
  /** Word models: words seen fewer times become <unk>. */
  minCount?: number;
}

/** What one token is called in messages. */
const unitOf = (v: LMTokenizer): string => (v.kind === 'word' ? 'word' : 'char');

/** Which part of the validation split an evaluation scored, e.g. "first 250,000 of 5,019,870 validation chars". */
const evalScope = (e: EvalInfo, unit: string): string => {
  const n = (k: number): string => k.toLocaleString('en-US');
  return e.evalChars < e.valChars ? `first ${n(e.evalChars)} of ${n(e.valChars)} validation ${unit}s` : `all ${n(e.valChars)} validation ${unit}s`;
};

export async function trainCommand(file: string, f: TrainFlags): Promise<void> {
  if (f.epochs !== undefined && f.minutes !== undefined) throw new UserError('give either --epochs or --minutes, not both', 2);
  const options: TrainOptions = {
    ...defaultTrainOptions,
    batch: f.batch, seq: f.seq, lr: f.lr, optimizer: f.optimizer, clip: f.clip, lrDecay: f.lrDecay,
    epochs: f.epochs ?? (f.minutes === undefined && f.steps === undefined ? 1 : 0),
    seconds: (f.minutes ?? 0) * 60, steps: f.steps ?? 0,
    valFrac: f.valFrac, evalEvery: f.evalEvery, evalChars: f.evalChars, sampleEvery: f.sampleEvery, seed: f.seed,
  };
  const resume = f.resume ? readCheckpoint(f.resume) : undefined;
  if (resume && f.tokens !== undefined && f.tokens !== resume.vocab.kind) {
    throw new UserError(`the checkpoint is a ${resume.vocab.kind}-level model; resume it with --tokens ${resume.vocab.kind} (or leave --tokens out)`, 2);
  }
  const { ids, vocab, chars } = readCorpusFile(file, { keepCr: f.keepCr, vocab: resume?.vocab, tokens: f.tokens, minCount: f.minCount ?? 2 });
  const unit = unitOf(vocab);
  const tooShort = textLengthProblem(ids.length, options, `'${file}'`, vocab.kind === 'word' ? 'word tokens' : 'characters');
  if (tooShort) throw new UserError(tooShort);
  const config = { model: f.model, layers: f.layers, hidden: f.hidden, embed: f.embed, dropout: f.dropout };
  const tty = process.stderr.isTTY && !f.quiet;
  const multibar = !tty ? null : new cliProgress.MultiBar({
    format: ` {bar} {percentage}% | step {step} | epoch {epochf} | loss {loss} | val {val} | {cps} ${unit}s/s | ETA {eta2}`,
    hideCursor: true, clearOnComplete: false, stopOnComplete: false, noTTYOutput: false, stream: process.stderr,
  }, cliProgress.Presets.shades_classic);
  const bar = multibar ? multibar.create(1000, 0, { step: 0, epochf: '0.00', loss: '-', val: '-', cps: '-', eta2: '--' }) : null;
  const log = (s: string): void => {
    if (multibar) multibar.log(s.endsWith('\n') ? s : s + '\n');
    else process.stdout.write(s.endsWith('\n') ? s : s + '\n');
  };
  const budget = { epochs: options.epochs, seconds: options.seconds, steps: options.steps };
  const size = vocab.kind === 'word' ? `${ids.length} word tokens, vocabulary ${vocab.size} (words seen fewer than ${f.minCount ?? 2} times are <unk>)` : `${chars} characters, vocabulary ${vocab.size}`;
  log(`recur: training a ${config.layers}x${config.hidden} ${config.model.toUpperCase()} ${unit}-level model on '${file}' (${size})` +
    (resume ? `, resuming at step ${resume.meta.progress.step}` : '') + `; checkpoints go to '${f.out}'`);
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
    const res = await trainCharLM({ ids, vocab, name: `'${file}'`, config, options, resume }, {
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
          step: s.step, epochf: (s.epoch + s.epochProgress).toFixed(2), loss: s.loss.toFixed(3),
          val: lastVal === null ? '-' : lastVal.toFixed(3), cps: Math.round(s.charsPerSec).toLocaleString('en-US'), eta2: fmtTime(eta),
        });
      },
      onEval: (e) => {
        lastVal = e.valLoss;
        log(`step ${e.step}: val loss ${e.valLoss.toFixed(4)} nats/${unit}, perplexity ${e.perplexity.toFixed(2)}, ${e.bitsPerChar.toFixed(3)} bits/${unit} (${evalScope(e, unit)})`);
      },
      onSample: (t, step) => log(`--- sample at step ${step} ---\n${t}\n---`),
      onCheckpoint: (bytes) => writeFileAtomic(f.out, bytes),
      shouldStop: () => stopRequests > 0,
    });
    bar?.update(1000);
    multibar?.stop();
    const p = res.progress;
    process.stdout.write(
      `recur: done (${res.stoppedBy === 'request' ? 'stopped on request' : `reached the ${res.stoppedBy} limit`}): ${p.step} steps, ` +
      `epoch ${p.epoch}, ${fmtTime(p.seconds)} of training, train loss ${lastLoss.toFixed(4)}, ` +
      `val loss ${p.lastValLoss!.toFixed(4)} nats/${unit} (${(p.lastValLoss! / Math.LN2).toFixed(3)} bits/${unit}, perplexity ${Math.exp(p.lastValLoss!).toFixed(2)}; ${evalScope(res.finalEval, unit)}), ` +
      `${Math.round(lastCps).toLocaleString('en-US')} ${unit}s/s; saved '${f.out}'\n`,
    );
  } catch (e) {
    multibar?.stop();
    throw e instanceof UserError ? e : new UserError((e as Error).message);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export interface SampleFlags {
  prime?: string; length: number; temperature: number; topK?: number; topP?: number; argmax?: boolean; argmaxAfterSpace?: boolean; seed?: number;
}

export function sampleCommand(checkpoint: string, f: SampleFlags): void {
  const ck = readCheckpoint(checkpoint);
  if (f.prime !== undefined) {
    if (f.prime === '') throw new UserError('--prime is empty: give at least one character, or leave it out');
    const unknown = ck.vocab.unknownIn(f.prime);
    if (ck.vocab.kind === 'word') {
      if (ck.vocab.encode(f.prime).length === 0) throw new UserError('--prime has no words in it: give at least one word, punctuation mark or newline');
      if (unknown.size > 0) process.stderr.write(`recur: the model does not know ${[...unknown.keys()].slice(0, 5).map((w) => JSON.stringify(w)).join(', ')}; read as <unk>\n`);
    } else if (unknown.size > 0) {
      const c = [...unknown.keys()][0];
      throw new UserError(`the prime text has ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}), which is not in the model's vocabulary`);
    }
  }
  if (f.prime !== undefined) process.stdout.write(f.prime);
  sampleText(ck.model, ck.vocab, {
    prime: f.prime, length: f.length, temperature: f.temperature, topK: f.topK, topP: f.topP, argmax: f.argmax,
    argmaxExceptAfterSpace: f.argmaxAfterSpace, seed: f.seed ?? Date.now() % 2 ** 31, onChar: (c) => process.stdout.write(c),
  });
  process.stdout.write('\n');
}

export function evalCommand(checkpoint: string, file: string, f: { batch: number; seq: number; keepCr?: boolean }): void {
  const ck = readCheckpoint(checkpoint);
  // unknown words are scored as <unk>, as word-level perplexities usually are; unknown characters are skipped and listed
  const { ids, unknown } = readCorpusFile(file, { keepCr: f.keepCr, vocab: ck.vocab, unknown: 'skip' });
  if (ck.vocab.kind === 'word') {
    if (ids.length < 2) throw new UserError(`'${file}' has fewer than two words; nothing to evaluate`);
    const unk = ck.vocab.id(ck.vocab.unknown);
    let unknownCount = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] === unk) unknownCount++;
    const loss = evaluateLoss(ck.model, ids, f.batch, f.seq);
    process.stdout.write(`loss ${loss.toFixed(4)} nats/word, perplexity ${Math.exp(loss).toFixed(3)}, ${(loss / Math.LN2).toFixed(4)} bits/word over ${ids.length} word tokens\n`);
    if (unknownCount > 0) process.stdout.write(`${unknownCount} of them are words outside the model's vocabulary, scored as <unk>\n`);
    return;
  }
  let skipped = 0;
  for (const n of unknown.values()) skipped += n;
  if (ids.length < 2) throw new UserError(`'${file}' has fewer than two characters the model knows; nothing to evaluate`);
  const loss = evaluateLoss(ck.model, ids, f.batch, f.seq);
  process.stdout.write(`loss ${loss.toFixed(4)} nats/char, perplexity ${Math.exp(loss).toFixed(3)}, ${(loss / Math.LN2).toFixed(4)} bits/char over ${ids.length} characters\n`);
  if (skipped > 0) {
    const list = [...unknown.entries()].slice(0, 8).map(([c, n]) => `${JSON.stringify(c)} x${n}`).join(', ');
    process.stdout.write(`skipped ${skipped} character(s) outside the model's vocabulary: ${list}\n`);
  }
}

export function infoCommand(checkpoint: string): void {
  const ck = readCheckpoint(checkpoint);
  const c = ck.model.config;
  const p = ck.meta.progress;
  const unit = unitOf(ck.vocab);
  const lines = [
    `model: ${c.layers} x ${c.hidden} ${c.model.toUpperCase()}, embedding ${c.embed === 0 ? 'none (one-hot input)' : c.embed}, dropout ${c.dropout}`,
    `vocabulary: ${ck.vocab.size} ${ck.vocab.kind === 'word' ? 'word tokens (words, punctuation, spacing, <unk>)' : 'characters'}`,
    `parameters: ${ck.model.numParameters().toLocaleString('en-US')}`,
    `trained: ${p.step} steps, epoch ${p.epoch}, ${fmtTime(p.seconds)}${ck.optimizer ? `, optimizer ${ck.optimizer.type} (lr ${ck.optimizer.options.lr})` : ''}`,
    `last validation loss: ${p.lastValLoss === null ? 'none' : `${p.lastValLoss.toFixed(4)} nats/${unit} (${(p.lastValLoss / Math.LN2).toFixed(3)} bits/${unit}, perplexity ${Math.exp(p.lastValLoss).toFixed(2)})`}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
