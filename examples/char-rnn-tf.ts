/**
 * char-rnn in TensorFlow (sherjilozair/char-rnn-tensorflow, the run the
 * "RNN / BPTT / LSTM / char-rnn" lecture slides show) at its settings: 2
 * layers of 128 LSTM units with TensorFlow's forget-gate bias of 1 inside the
 * cell, an embedding of 128, batches of 50 rows x 50 steps, Adam with
 * learning rate 0.002, gradients clipped to a global norm of 5, 2 epochs over
 * all of tinyshakespeare (446 batches each), the state carried from batch to
 * batch and reset at each epoch, TensorFlow's Glorot-uniform initialisation.
 * It prints the training loss of the last batches beside the slides' log,
 * then 4,000 characters from the prime " " in each of char-rnn's three
 * sampling modes, then trains the same model again with a tenth of the text
 * held out, for a validation figure the original cannot give.
 *
 *   npx tsx examples/char-rnn-tf.ts [--epochs 2] [--chars 0] [--sample-length 4000] [--seed 1] [--no-held-out]
 *
 * The `recur train` command with the same settings (PyTorch's initialisation):
 *   recur train data/tinyshakespeare.txt --layers 2 --hidden 128 --embed 128 --dropout 0 --forget-bias 1 \
 *     --batch 50 --seq 50 --lr 0.002 --lr-decay 1 --clip 5 --epochs 2 --val-frac 0
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CharTokenizer, Rng, defaultTrainOptions, sampleText, trainLM, type EvalInfo, type LanguageModel } from '../src/index.js';
import { tensorflowInit } from './classic-init.js';
import { exampleArgs, readExampleText } from './example-args.js';

/** The slides' log: training loss (nats per character) over batches 885-891 of 892, and at the last. */
export const THEIR_LOSS = { firstBatch: 885, lastBatch: 891, low: 1.455, high: 1.541, atLast: 1.495 };

/** char-rnn's sampling_type: 0 argmax, 1 weighted, 2 argmax except after a space (sample there). */
export const SAMPLING_MODES = ['argmax', 'weighted', 'argmax except after a space'] as const;
export type SamplingMode = (typeof SAMPLING_MODES)[number];

export interface CharRnnTfOptions {
  text: string;
  epochs?: number;
  layers?: number;
  hidden?: number;
  embed?: number;
  batch?: number;
  seq?: number;
  lr?: number;
  /** Hold out this share of the text (its end) and report the validation loss; 0 as the original. */
  valFrac?: number;
  /** Characters per sample, in each mode (0: none). */
  sampleLength?: number;
  seed?: number;
  /** Called with each batch's training loss, the batch numbered from 0 over the whole run as in the original's log. */
  onBatch?: (batch: number, loss: number) => void;
}

export interface CharRnnTfResult {
  /** Every batch's training loss, in order. */
  losses: number[];
  /** The validation split's loss at the end (null with valFrac 0). */
  finalEval: EvalInfo | null;
  samples: Record<SamplingMode, string>;
  model: LanguageModel;
  vocab: CharTokenizer;
  /** Training time. */
  seconds: number;
}

export async function charRnnTf(o: CharRnnTfOptions): Promise<CharRnnTfResult> {
  const vocab = CharTokenizer.fromTexts(o.text);
  const seed = o.seed ?? 1;
  const losses: number[] = [];
  const epochs = o.epochs ?? 2;
  const res = await trainLM(
    {
      text: o.text,
      vocab,
      config: { model: 'lstm', layers: o.layers ?? 2, hidden: o.hidden ?? 128, embed: o.embed ?? 128, dropout: 0, forgetBias: 1 },
      options: {
        ...defaultTrainOptions,
        // the source's schedule: lrDecay after every epoch, no warm-up
        schedule: 'exponential',
        warmup: 0,
        batch: o.batch ?? 50,
        seq: o.seq ?? 50,
        optimizer: 'adam',
        lr: o.lr ?? 0.002,
        lrDecay: 1,
        clip: 5,
        epochs,
        valFrac: o.valFrac ?? 0,
        evalEvery: 0,
        sampleEvery: 0,
        seed,
      },
    },
    {
      onStart: (model) => tensorflowInit(model, new Rng(seed)),
      onStep: (s) => {
        losses.push(s.loss);
        o.onBatch?.(s.step - 1, s.loss);
      },
    },
  );
  const n = o.sampleLength ?? 4000;
  const sample = (mode: SamplingMode): string =>
    n === 0
      ? ''
      : sampleText(res.model, vocab, {
          prime: ' ',
          length: n,
          argmax: mode === 'argmax',
          argmaxExceptAfterSpace: mode === 'argmax except after a space',
          seed,
        });
  return {
    losses,
    finalEval: res.finalEval,
    samples: { argmax: sample('argmax'), weighted: sample('weighted'), 'argmax except after a space': sample('argmax except after a space') },
    model: res.model,
    vocab,
    seconds: res.progress.seconds,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = exampleArgs('char-rnn-tf', {
    numbers: { epochs: ['count', 2], chars: ['whole', 0], 'sample-length': ['whole', 4000], seed: ['number', 1] },
    strings: { data: fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url)) },
    flags: { 'no-held-out': false },
  });
  let text = readExampleText('char-rnn-tf', a.data);
  if (a.chars > 0) text = text.slice(0, a.chars);
  const t0 = performance.now();
  const run = await charRnnTf({ text, epochs: a.epochs, sampleLength: a['sample-length'], seed: a.seed });
  const total = run.losses.length;
  console.log(`2 x 128 LSTM (forget bias 1), embedding 128, batch 50 x 50, Adam 0.002, clip 5, ${a.epochs} epochs: ${total} batches on all the text`);
  console.log('batch      train loss (nats/char)');
  const from = Math.max(0, total - 7);
  for (let b = from; b < total; b++) console.log(`${String(b).padEnd(11)}${run.losses[b].toFixed(3)}`);
  const last = run.losses.slice(from);
  console.log(
    `ours over batches ${from}-${total - 1}: ${Math.min(...last).toFixed(3)}-${Math.max(...last).toFixed(3)}, ${run.losses[total - 1].toFixed(3)} at ${total - 1}; ` +
      `the slides over ${THEIR_LOSS.firstBatch}-${THEIR_LOSS.lastBatch}: ${THEIR_LOSS.low}-${THEIR_LOSS.high}, ${THEIR_LOSS.atLast} at ${THEIR_LOSS.lastBatch} ` +
      `(${run.seconds.toFixed(0)} s of training)`,
  );
  for (const mode of SAMPLING_MODES) {
    if (run.samples[mode]) console.log(`\n---- ${run.samples[mode].length} characters from the prime " ", ${mode} ----\n ${run.samples[mode]}`);
  }
  if (!a['no-held-out']) {
    const held = await charRnnTf({ text, epochs: a.epochs, valFrac: 0.1, sampleLength: 0, seed: a.seed });
    const e = held.finalEval!;
    console.log(
      `\nheld-out run (the last 10% of the text kept out, the same settings, ${held.losses.length} batches): ` +
        `validation loss ${e.valLoss.toFixed(4)} nats/char (${e.bitsPerToken.toFixed(3)} bits/char) over ${e.valChars} characters; ` +
        `its last training loss ${held.losses[held.losses.length - 1].toFixed(3)}`,
    );
  }
  console.log(`wall time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
