/**
 * The playground's worker: owns the backend, the model and the one training
 * loop the CLI uses (trainLM), so the page never blocks. It takes its
 * orders from protocol.ts messages; the trainer yields to this worker's event
 * loop every 50 ms, which is when pause, stop, save and sample requests land.
 */
import {
  LanguageModel,
  LMStepper,
  CharTokenizer,
  decodeCheckpoint,
  encodeCheckpoint,
  sampleText,
  setBackend,
  trainLM,
  useWebWorkerThreads,
  defaultTrainOptions,
  getBackend,
  readCorpus,
} from '../../src/browser.js';
import { createWasmBackend, lineEndNote } from '../../src/internal.js';
import { CELL_KINDS } from '../../src/nn/rnn/kinds.js';
import type { FromWorker, ModelInfo, ToWorker } from './protocol.js';

const post = (m: FromWorker, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(m, transfer);

let model: LanguageModel | null = null;
let vocab: CharTokenizer | null = null;
let lastCheckpoint: Uint8Array | null = null;
let training = false;
let stopRequested = false;
let saveRequested = false;
let pause: { promise: Promise<void>; resolve: () => void } | null = null;

function info(m: LanguageModel, v: CharTokenizer, step = 0, lastValLoss: number | null = null): ModelInfo {
  const c = m.config;
  return {
    model: c.model,
    blocks: !!c.blocks,
    layers: c.layers,
    hidden: c.hidden,
    embed: c.embed,
    dropout: c.dropout,
    vocabSize: v.size,
    parameters: m.numParameters(),
    step,
    lastValLoss,
  };
}

async function start(): Promise<void> {
  const threaded = useWebWorkerThreads();
  try {
    const wasm = createWasmBackend();
    await wasm.threadsReady();
    setBackend(wasm);
    post({ type: 'ready', backend: 'wasm', threads: wasm.threads, isolated: threaded, variant: wasm.kernels.variant });
  } catch (e) {
    // no WebAssembly SIMD here: the reference backend still works, only slower
    setBackend('js');
    post({ type: 'ready', backend: 'js', threads: 1, isolated: threaded, variant: 'none' });
    console.warn(`recur: wasm backend unavailable (${(e as Error).message}); using js`);
  }
}
const started = start();

async function train(msg: Extract<ToWorker, { type: 'train' }>): Promise<void> {
  training = true;
  stopRequested = false;
  let lastStepPost = 0;
  try {
    // the CLI's reading: the same line-end rule and code-point counts
    const corpus = readCorpus(msg.text, { name: msg.name });
    const v = corpus.vocab as CharTokenizer;
    const result = await trainLM(
      { ids: corpus.ids, vocab: v, name: msg.name, config: msg.model, options: { ...defaultTrainOptions, ...msg.train, sampleLength: 200 } },
      {
        onStart(m) {
          // set together, so a text refused before this leaves the last model and its vocabulary as they were
          model = m;
          vocab = v;
          post({ type: 'started', vocabSize: v.size, chars: corpus.chars, note: lineEndNote(msg.name, corpus.lineEnds), info: info(m, v) });
        },
        onStep(s) {
          const now = performance.now();
          // a message per step would flood the page on small models; ten a second is plenty for a chart
          if (now - lastStepPost > 100 || s.step === 1) {
            lastStepPost = now;
            post({ type: 'step', step: s.step, epoch: s.epoch, loss: s.loss, charsPerSec: s.charsPerSec, lr: s.lr });
          }
        },
        onEval(e) {
          post({ type: 'eval', step: e.step, valLoss: e.valLoss, bitsPerChar: e.bitsPerToken, evalChars: e.evalChars, valChars: e.valChars });
        },
        onSample(text, s) {
          post({ type: 'trainSample', step: s, text });
        },
        onCheckpoint(bytes) {
          lastCheckpoint = bytes;
          if (saveRequested) {
            saveRequested = false;
            post({ type: 'checkpoint', bytes: bytes.slice() });
          }
        },
        shouldStop: () => stopRequested,
        checkpointRequested: () => saveRequested,
        waitIfPaused: () => pause?.promise,
      },
    );
    model = result.model;
    post({
      type: 'done',
      stoppedBy: result.stoppedBy,
      step: result.progress.step,
      info: info(result.model, v, result.progress.step, result.progress.lastValLoss),
    });
  } catch (e) {
    post({ type: 'error', message: (e as Error).message, during: 'training' });
  } finally {
    training = false;
    if (pause) {
      pause.resolve();
      pause = null;
    }
  }
}

function sample(msg: Extract<ToWorker, { type: 'sample' }>): void {
  if (!model || !vocab) throw new Error('there is no model yet: train one or load a checkpoint');
  const s = msg.settings;
  if (s.prime !== undefined) {
    const unknown = [...vocab.unknownIn(s.prime).keys()];
    if (unknown.length > 0) throw new Error(`the prime text has ${JSON.stringify(unknown[0])}, which is not in the model's vocabulary`);
  }
  // the same call as `recur sample`, so a checkpoint and a seed give the same text in both
  let batch = '';
  let lastFlush = performance.now();
  const text = sampleText(model, vocab, {
    prime: s.prime,
    length: s.length,
    temperature: s.temperature,
    topK: s.topK,
    topP: s.topP,
    argmax: s.argmax,
    seed: s.seed,
    onChar(c) {
      batch += c;
      const now = performance.now();
      if (now - lastFlush > 16) {
        post({ type: 'char', c: batch });
        batch = '';
        lastFlush = now;
      }
    },
  });
  if (batch) post({ type: 'char', c: batch });
  post({ type: 'sampleDone', text });
}

function activations(msg: Extract<ToWorker, { type: 'activations' }>): void {
  if (!model || !vocab) throw new Error('there is no model yet: train one or load a checkpoint');
  const chars = [...msg.text].filter((c) => vocab!.has(c));
  if (chars.length === 0) throw new Error('the text has no characters the model knows');
  const H = model.config.hidden;
  const values = new Float32Array(chars.length * H);
  const wasTraining = model.training;
  model.eval();
  const stepper = new LMStepper(model);
  try {
    chars.forEach((c, t) => {
      stepper.step(vocab!.encode(c)[0]);
      values.set(stepper.cellActivations(msg.layer), t * H);
    });
  } finally {
    stepper.dispose();
    model.train(wasTraining);
  }
  const kind = model.config.model;
  // what cellActivations read, so the page can say which state it colours by
  const state = CELL_KINDS[kind].cellState ? 'c' : 'h';
  post({ type: 'activations', chars, layer: msg.layer, hidden: H, values, kind, state }, [values.buffer]);
}

/** GFLOP/s of a 512 x 512 x 512 matrix product on this backend, for the page's speed line. */
function speed(): number {
  const bk = getBackend();
  const n = 512;
  const a = bk.fromValues(new Float32Array(n * n).fill(0.5));
  const c = bk.alloc(n * n);
  const args = { batch: 1, m: n, n, k: n, transA: false, transB: false, strideA: 0, strideB: 0, strideC: 0, accumulate: false };
  bk.matmul(a, a, c, args);
  const t0 = performance.now();
  let iters = 0;
  while (performance.now() - t0 < 500) {
    bk.matmul(a, a, c, args);
    iters++;
  }
  const gflops = (2 * n * n * n * iters) / ((performance.now() - t0) / 1000) / 1e9;
  bk.free(a);
  bk.free(c);
  return gflops;
}

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  await started;
  try {
    switch (msg.type) {
      case 'train':
        if (training) throw new Error('training is already running: stop it first');
        await train(msg);
        break;
      case 'pause':
        if (training && !pause) {
          let resolve!: () => void;
          const promise = new Promise<void>((r) => (resolve = r));
          pause = { promise, resolve };
          post({ type: 'paused' });
        }
        break;
      case 'resume':
        if (pause) {
          pause.resolve();
          pause = null;
          post({ type: 'resumed' });
        }
        break;
      case 'stop':
        stopRequested = true;
        if (pause) {
          pause.resolve();
          pause = null;
        }
        break;
      case 'save':
        if (training)
          saveRequested = true; // the trainer hands over a checkpoint before its next step
        else if (model && vocab) post({ type: 'checkpoint', bytes: lastCheckpoint ? lastCheckpoint.slice() : encodeCheckpoint(model, vocab) });
        else throw new Error('there is no model to save yet: train one or load a checkpoint');
        break;
      case 'load': {
        if (training) throw new Error('stop training before loading a checkpoint');
        const ck = decodeCheckpoint(msg.bytes, `'${msg.name}'`);
        // the page shows characters (prime, samples, the cell view); word models are for recur sample
        if (ck.vocab.kind !== 'char')
          throw new Error(`'${msg.name}' is a word-level model; the playground works with character models (sample it with recur sample)`);
        model = ck.model;
        vocab = ck.vocab;
        lastCheckpoint = msg.bytes;
        post({ type: 'loaded', name: msg.name, info: info(ck.model, ck.vocab, ck.meta.progress.step, ck.meta.progress.lastValLoss) });
        break;
      }
      case 'sample':
        sample(msg);
        break;
      case 'activations':
        activations(msg);
        break;
      case 'speed':
        post({ type: 'speed', gflops: speed() });
        break;
    }
  } catch (e) {
    post({ type: 'error', message: (e as Error).message, during: msg.type });
  }
};
