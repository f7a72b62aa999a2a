/**
 * The textbook Shakespeare LSTM (Grokking Deep Learning, ch. 14 style):
 * embedding -> LSTM -> linear, batch 16 x bptt 25, plain SGD whose learning
 * rate decays by 0.99 every epoch, a sample printed after every epoch.
 * It runs the library's training loop (the one `recur train` uses).
 *
 *   npx tsx examples/shakespeare-lstm.ts [--epochs 2] [--chars 200000] [--hidden 256]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CharTokenizer, Rng, defaultTrainOptions, sampleText, trainLM, type TrainResult } from '../src/index.js';
import { exampleArgs } from './example-args.js';

export async function shakespeareLstm(o: { text: string; epochs: number; hidden?: number; log?: (s: string) => void }): Promise<TrainResult> {
  const vocab = CharTokenizer.fromTexts(o.text);
  const log = o.log ?? (() => {});
  let lastLoss = NaN;
  return trainLM(
    {
      text: o.text,
      vocab,
      config: { model: 'lstm', layers: 1, hidden: o.hidden ?? 256, embed: 64, dropout: 0 },
      options: {
        ...defaultTrainOptions,
        // the source's schedule: lrDecay after every epoch, no warm-up
        schedule: 'exponential',
        warmup: 0,
        batch: 16,
        seq: 25,
        optimizer: 'sgd',
        lr: 1,
        momentum: 0,
        lrDecay: 0.99,
        clip: 5,
        epochs: o.epochs,
        evalEvery: 0,
        sampleEvery: 0,
      },
    },
    {
      onStep: (s) => {
        lastLoss = s.loss;
      },
      onEpochEnd: (epoch, model) => {
        const sample = sampleText(model, vocab, { prime: 'ROMEO:', length: 150, temperature: 0.8, rng: new Rng(epoch) });
        log(`epoch ${epoch} done: train loss ${lastLoss.toFixed(3)}, learning rate now ${(0.99 ** epoch).toFixed(4)}\nROMEO:${sample}\n`);
      },
      onEval: (e) => log(`validation loss ${e.valLoss.toFixed(3)} nats/char (${e.bitsPerToken.toFixed(3)} bits/char)`),
    },
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('shakespeare-lstm', { numbers: { epochs: ['count', 2], chars: ['count', 200000], hidden: ['count', 256] } });
  const text = readFileSync(fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url)), 'utf8').slice(0, values.chars);
  const res = await shakespeareLstm({ text, epochs: values.epochs, hidden: values.hidden, log: (s) => console.log(s) });
  console.log(`done: ${res.progress.step} steps, validation loss ${res.progress.lastValLoss!.toFixed(3)} nats/char`);
}
