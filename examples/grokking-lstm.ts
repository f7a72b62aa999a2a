/**
 * Grokking Deep Learning (Trask), chapter 14, "Learning to write like
 * Shakespeare", at the book's settings: an embedding of 512 into one LSTM
 * layer of 512, batches of 16 rows x 25 steps (bptt) over the first 100,000
 * characters of Shakespeare (249 windows an epoch), plain SGD with learning
 * rate 0.05 on the loss summed over the window, the rate x 0.99 after each
 * epoch, no clipping, the state carried (detached) between windows and reset
 * each epoch, the book's initialisation (the output layer zero). It prints
 * the epoch's running perplexity, e^(mean loss so far this epoch), where the
 * book prints it, beside the book's, and a 70-character argmax sample from
 * "T" after each epoch.
 *
 * The learning rate is the book's 0.05 on recur's --loss-sum, the loss
 * summed over the window's steps and averaged over its rows. The book's
 * cross-entropy passes softmax - target back for every row without dividing
 * by the batch size, which read literally is 16 times that step (--lr 0.8
 * here); that run diverges within the first epoch (docs/reproductions.md).
 *
 *   npx tsx examples/grokking-lstm.ts [--epochs 7] [--chars 100000] [--lr 0.05] [--hidden 512] [--seed 1]
 *
 * The `recur train` command with the same settings (PyTorch's initialisation):
 *   head -c 100000 data/tinyshakespeare.txt > first100k.txt
 *   recur train first100k.txt --layers 1 --hidden 512 --embed 512 --dropout 0 --batch 16 --seq 25 \
 *     --optimizer sgd --momentum 0 --lr 0.05 --loss-sum --lr-decay 0.99 --clip 0 --epochs 7 --val-frac 0
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BpttBatcher, CharTokenizer, Rng, defaultTrainOptions, sampleText, trainLM, type LanguageModel } from '../src/index.js';
import { grokkingInit } from './classic-init.js';
import { exampleArgs, readExampleText } from './example-args.js';

/** The running perplexities the book prints (as issue 18 quotes them): [epoch, window (from 1), perplexity]. */
export const BOOK_PERPLEXITY: [number, number, number][] = [
  [0, 3, 61.8],
  [0, 227, 19.48],
  [6, 221, 10.69],
];

/** The same log in the book's repository notebook (iamtrask/Grokking-Deep-Learning, chapter 14), another run of the same code. */
export const NOTEBOOK_PERPLEXITY: [number, number, number][] = [
  [0, 1, 62.0],
  [0, 3, 61.99],
  [0, 227, 19.79],
  [0, 249, 19.23],
  [1, 249, 13.3],
  [2, 249, 12.47],
  [5, 249, 10.86],
  [6, 1, 10.69],
];

export interface GrokkingOptions {
  /** The training text: the book's is 100,000 characters. */
  text: string;
  epochs?: number;
  hidden?: number;
  embed?: number;
  batch?: number;
  bptt?: number;
  /** SGD's learning rate on the loss summed over the window and averaged over the batch (the book's 0.05). */
  lr?: number;
  seed?: number;
  /** Characters in each epoch's argmax sample (0: none). */
  sampleLength?: number;
  /** After each window: epoch, window within it (from 1), the epoch's running perplexity. */
  onWindow?: (epoch: number, window: number, perplexity: number) => void;
  /** After each epoch, with its argmax sample from "T". */
  onEpoch?: (epoch: number, perplexity: number, sample: string) => void;
}

export interface GrokkingResult {
  /** perplexity[epoch][window - 1]: the running perplexity after each window. */
  perplexity: number[][];
  windowsPerEpoch: number;
  vocabSize: number;
  /** The argmax sample after the last epoch. */
  sample: string;
  model: LanguageModel;
  seconds: number;
}

export async function grokkingLstm(o: GrokkingOptions): Promise<GrokkingResult> {
  const vocab = CharTokenizer.fromTexts(o.text);
  const batch = o.batch ?? 16,
    bptt = o.bptt ?? 25,
    seed = o.seed ?? 1,
    sampleLength = o.sampleLength ?? 70;
  const { windowsPerEpoch } = BpttBatcher.layout(vocab.encode(o.text).length, batch, bptt);
  const perplexity: number[][] = [];
  let total = 0;
  let sample = '';
  const argmaxSample = (model: LanguageModel): string =>
    sampleLength > 0 && vocab.has('T') ? sampleText(model, vocab, { prime: 'T', length: sampleLength, argmax: true }) : '';
  const res = await trainLM(
    {
      text: o.text,
      vocab,
      config: { model: 'lstm', layers: 1, hidden: o.hidden ?? 512, embed: o.embed ?? 512, dropout: 0 },
      options: {
        ...defaultTrainOptions,
        // the source's schedule: lrDecay after every epoch, no warm-up
        schedule: 'exponential',
        warmup: 0,
        batch,
        seq: bptt,
        optimizer: 'sgd',
        momentum: 0,
        lr: o.lr ?? 0.05,
        lossSum: true,
        lrDecay: 0.99,
        clip: 0,
        epochs: o.epochs ?? 7,
        valFrac: 0,
        evalEvery: 0,
        sampleEvery: 0,
        seed,
      },
    },
    {
      onStart: (model) => grokkingInit(model, new Rng(seed)),
      onStep: (s) => {
        const epoch = Math.floor((s.step - 1) / windowsPerEpoch);
        const window = s.step - epoch * windowsPerEpoch;
        if (window === 1) {
          perplexity.push([]);
          total = 0;
        }
        total += s.loss;
        const p = Math.exp(total / window);
        perplexity[epoch].push(p);
        o.onWindow?.(epoch, window, p);
        if (window === windowsPerEpoch) o.onEpoch?.(epoch, p, sample);
      },
      // trainLM calls this before it reports the epoch's last step, so onStep passes the sample on
      onEpochEnd: (_epoch, model) => {
        sample = argmaxSample(model);
      },
    },
  );
  return { perplexity, windowsPerEpoch, vocabSize: vocab.size, sample, model: res.model, seconds: res.progress.seconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = exampleArgs('grokking-lstm', {
    numbers: { epochs: ['count', 7], chars: ['count', 100000], lr: ['positive', 0.05], hidden: ['count', 512], seed: ['number', 1] },
    strings: { data: fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url)) },
  });
  const text = readExampleText('grokking-lstm', a.data).slice(0, a.chars);
  const t0 = performance.now();
  const run = await grokkingLstm({
    text,
    epochs: a.epochs,
    lr: a.lr,
    hidden: a.hidden,
    embed: a.hidden,
    seed: a.seed,
    onEpoch: (epoch, p, s) =>
      console.log(
        `epoch ${epoch}: perplexity ${p.toFixed(2)} at its end, ${((performance.now() - t0) / 1000).toFixed(0)} s; argmax from "T": T${s.replace(/\n/g, ' ')}`,
      ),
  });
  console.log(
    `\nembedding ${a.hidden}, LSTM ${a.hidden}, batch 16 x bptt 25, SGD ${a.lr} on the summed loss, x 0.99 per epoch; ` +
      `${text.length} characters, ${run.windowsPerEpoch} windows an epoch, V = ${run.vocabSize}`,
  );
  console.log('epoch  window  ours     book    notebook');
  const points = new Map<string, [number, number]>();
  for (const [e, w] of [...BOOK_PERPLEXITY, ...NOTEBOOK_PERPLEXITY]) points.set(`${e}:${w}`, [e, w]);
  for (let e = 0; e < run.perplexity.length; e++) points.set(`${e}:${run.windowsPerEpoch}`, [e, run.windowsPerEpoch]);
  const sorted = [...points.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const find = (list: [number, number, number][], e: number, w: number): string => list.find(([pe, pw]) => pe === e && pw === w)?.[2].toFixed(2) ?? '';
  for (const [e, w] of sorted) {
    const ours = run.perplexity[e]?.[w - 1];
    if (ours === undefined) continue;
    console.log(
      `${String(e).padEnd(7)}${String(w).padEnd(8)}${ours.toFixed(2).padEnd(9)}${find(BOOK_PERPLEXITY, e, w).padEnd(8)}${find(NOTEBOOK_PERPLEXITY, e, w)}`,
    );
  }
  console.log(`wall time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
