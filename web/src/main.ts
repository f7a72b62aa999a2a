/**
 * The playground page: reads the controls, talks to the training worker
 * (worker.ts) through protocol.ts messages, and draws what comes back: stats,
 * a loss chart (uPlot), streamed samples, checkpoints and the cell view.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { decodeText } from '../../src/data/text.js';
import { checkpointSizeProblem } from '../../src/models/checkpoint-meta.js';
import { defaultTrainOptions, OPTIMIZER_LABELS, OPTIMIZER_NAMES, SCHEDULE_LABELS, SCHEDULE_NAMES } from '../../src/train/options.js';
import { defaultLMConfig, describeArchitecture } from '../../src/models/config.js';
import { sampleDefaults } from '../../src/generate/core.js';
import { CELL_KINDS, CELL_KIND_NAMES } from '../../src/nn/rnn/kinds.js';
import shakespeareUrl from '../../data/tinyshakespeare.txt?url';
import { activationColour, correlations, patternSeries, topCells, type Pattern } from './activations.js';
import type { FromWorker, ModelInfo, ModelSettings, SampleSettings, ToWorker, TrainSettings } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: #${id} is missing`);
  return el as T;
};
const num = (id: string): number => Number($<HTMLInputElement>(id).value);
const optNum = (id: string): number | undefined => ($<HTMLInputElement>(id).value.trim() === '' ? undefined : num(id));
const val = (id: string): string => $<HTMLInputElement | HTMLSelectElement>(id).value;
const fmt = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : '–');

// ------------------------------------------------------------------ worker

let worker: Worker;
const send = (m: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(m, transfer);

function newWorker(): void {
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'recur-trainer' });
  worker.onmessage = (ev: MessageEvent<FromWorker>) => onMessage(ev.data);
  worker.onerror = (ev) => showError(`the training worker failed: ${ev.message}`);
  send({ type: 'speed' });
}

// ------------------------------------------------------------------ state shown on the page

let phase: 'idle' | 'training' | 'paused' = 'idle';
let hasModel = false;
// the current model's form, for naming its layers in the cell view
let modelHasBlocks = false;
let firstLoss: number | null = null;
let lastSample = '';
let trainingText = '';
const chartData: [number[], (number | null)[], (number | null)[]] = [[], [], []];
let chart: uPlot | null = null;

function setPhase(p: typeof phase): void {
  phase = p;
  $<HTMLButtonElement>('start').disabled = p !== 'idle';
  $<HTMLButtonElement>('pause').disabled = p === 'idle';
  $<HTMLButtonElement>('pause').textContent = p === 'paused' ? 'Resume' : 'Pause';
  $<HTMLButtonElement>('stop').disabled = p === 'idle';
  $<HTMLButtonElement>('save').disabled = !hasModel;
  $<HTMLButtonElement>('sample').disabled = !hasModel;
  $<HTMLButtonElement>('act-show').disabled = !hasModel;
  $<HTMLButtonElement>('act-find').disabled = !hasModel;
  $<HTMLInputElement>('load').disabled = p !== 'idle';
  document.body.dataset.phase = p;
}

// the cell kinds come from the registry, so a new kind appears here without touching the page
$<HTMLSelectElement>('model').replaceChildren(...CELL_KIND_NAMES.map((k) => new Option(k === 'rnn' ? `${CELL_KINDS[k].name} (tanh)` : CELL_KINDS[k].name, k)));

$<HTMLSelectElement>('optimizer').replaceChildren(...OPTIMIZER_NAMES.map((k) => new Option(OPTIMIZER_LABELS[k], k)));
$<HTMLSelectElement>('schedule').replaceChildren(...SCHEDULE_NAMES.map((k) => new Option(SCHEDULE_LABELS[k], k)));

/** The page's time limit when it opens: the CLI has none of its own (a run there ends after an epoch), and the default cosine schedule needs one. */
const PLAYGROUND_MINUTES = 10;

// the fields start at the library's defaults (the CLI's too): they have one home, src/train/options.ts and friends
for (const [id, v] of Object.entries({
  model: defaultLMConfig.model,
  layers: defaultLMConfig.layers,
  hidden: defaultLMConfig.hidden,
  embed: defaultLMConfig.embed,
  dropout: defaultLMConfig.dropout,
  batch: defaultTrainOptions.batch,
  seq: defaultTrainOptions.seq,
  optimizer: defaultTrainOptions.optimizer,
  lr: defaultTrainOptions.lr,
  schedule: defaultTrainOptions.schedule,
  'lr-decay': defaultTrainOptions.lrDecay,
  warmup: defaultTrainOptions.warmup,
  minutes: PLAYGROUND_MINUTES,
  clip: defaultTrainOptions.clip,
  'eval-every': defaultTrainOptions.evalEvery,
  'sample-every': defaultTrainOptions.sampleEvery,
  'train-seed': defaultTrainOptions.seed,
  length: sampleDefaults.length,
  temperature: sampleDefaults.temperature,
}))
  $<HTMLInputElement>(id).value = String(v);
$<HTMLInputElement>('blocks').checked = !!defaultLMConfig.blocks;

function blocksOn(): boolean {
  return $<HTMLInputElement>('blocks').checked;
}
// with blocks the embedding must equal the hidden size, so the field follows it rather than accepting a value training would refuse
function syncEmbedField(): void {
  const embed = $<HTMLInputElement>('embed');
  embed.disabled = blocksOn();
  if (blocksOn()) embed.value = $<HTMLInputElement>('hidden').value;
}
$('blocks').addEventListener('change', syncEmbedField);
$('hidden').addEventListener('input', syncEmbedField);
syncEmbedField();

function showError(message: string): void {
  const el = $('text-status');
  el.textContent = message;
  el.classList.add('error');
  $('model-info').textContent = message;
  $('model-info').classList.add('error');
}
function clearError(): void {
  for (const id of ['text-status', 'model-info']) $(id).classList.remove('error');
}

function describe(info: ModelInfo): string {
  const val = info.lastValLoss === null ? '' : `, last validation loss ${info.lastValLoss.toFixed(4)}`;
  return `${describeArchitecture(info)}, dropout ${info.dropout}; vocabulary ${info.vocabSize} characters; ${info.parameters.toLocaleString('en-US')} parameters; step ${info.step}${val}.`;
}

function setModel(info: ModelInfo): void {
  hasModel = true;
  modelHasBlocks = info.blocks;
  $('model-info').textContent = describe(info);
  const sel = $<HTMLSelectElement>('act-layer');
  sel.replaceChildren(...Array.from({ length: info.layers }, (_, l) => new Option(`${l + 1}`, `${l}`)));
  $<HTMLInputElement>('act-cell').max = `${info.hidden - 1}`;
  setPhase(phase);
}

function makeChart(): void {
  const el = $('chart');
  chart?.destroy();
  chartData[0] = [];
  chartData[1] = [];
  chartData[2] = [];
  chart = new uPlot(
    {
      width: Math.max(280, el.clientWidth),
      height: 240,
      scales: { x: { time: false } },
      axes: [{ label: 'step' }, { label: 'loss (nats/char)' }],
      series: [
        { label: 'step' },
        { label: 'train', stroke: '#c0392b', width: 1.5, spanGaps: true, points: { show: false } },
        { label: 'validation', stroke: '#2063c9', width: 2, spanGaps: true, points: { show: true, size: 6 } },
      ],
    },
    chartData as uPlot.AlignedData,
    el,
  );
}
new ResizeObserver(() => chart?.setSize({ width: Math.max(280, $('chart').clientWidth), height: 240 })).observe($('chart'));

function onMessage(m: FromWorker): void {
  switch (m.type) {
    case 'ready': {
      document.body.dataset.threads = String(m.threads);
      document.body.dataset.backend = m.backend;
      const iso = self.crossOriginIsolated
        ? 'the page is cross-origin isolated'
        : 'this page is not cross-origin isolated, so the wasm backend runs on one thread (serve it with the COOP/COEP headers to use all cores)';
      $('env').textContent = `Backend: ${m.backend} (${m.variant} SIMD), ${m.threads} thread${m.threads === 1 ? '' : 's'}; ${iso}.`;
      document.body.dataset.variant = m.variant;
      break;
    }
    case 'speed':
      document.body.dataset.gflops = m.gflops.toFixed(1);
      $('env').textContent += ` Matrix product 512³: ${m.gflops.toFixed(1)} GFLOP/s.`;
      break;
    case 'started':
      hasModel = true;
      setModel(m.info);
      $('text-status').textContent = `Training on ${m.chars.toLocaleString('en-US')} characters, vocabulary ${m.vocabSize}.${m.note ? ` ${m.note}.` : ''}`;
      break;
    case 'step':
      if (firstLoss === null) {
        firstLoss = m.loss;
        $('stats').dataset.firstLoss = String(m.loss);
      }
      $('st-step').textContent = String(m.step);
      $('st-epoch').textContent = String(m.epoch);
      $('st-loss').textContent = fmt(m.loss);
      $('stats').dataset.loss = String(m.loss);
      $('st-speed').textContent = Math.round(m.charsPerSec).toLocaleString('en-US');
      $('stats').dataset.charsPerSec = String(m.charsPerSec);
      chartData[0].push(m.step);
      chartData[1].push(m.loss);
      chartData[2].push(null);
      chart?.setData(chartData as uPlot.AlignedData);
      break;
    case 'eval':
      $('st-val').textContent = fmt(m.valLoss, 4);
      $('st-val').title =
        m.evalChars < m.valChars
          ? `the first ${m.evalChars.toLocaleString('en-US')} of ${m.valChars.toLocaleString('en-US')} validation characters`
          : `all ${m.valChars.toLocaleString('en-US')} validation characters`;
      $('st-bpc').textContent = fmt(m.bitsPerChar);
      $('stats').dataset.valLoss = String(m.valLoss);
      chartData[0].push(m.step);
      chartData[1].push(null);
      chartData[2].push(m.valLoss);
      chart?.setData(chartData as uPlot.AlignedData);
      break;
    case 'trainSample': {
      const box = $('train-samples');
      const fig = document.createElement('figure');
      const cap = document.createElement('figcaption');
      cap.textContent = `step ${m.step}`;
      const pre = document.createElement('pre');
      pre.textContent = m.text;
      fig.append(cap, pre);
      box.prepend(fig);
      while (box.children.length > 5) box.lastElementChild!.remove();
      break;
    }
    case 'paused':
      setPhase('paused');
      break;
    case 'resumed':
      setPhase('training');
      break;
    case 'done':
      setModel(m.info);
      $('text-status').textContent =
        `Training stopped (${m.stoppedBy === 'request' ? 'as asked' : m.stoppedBy === 'time' ? 'the time limit' : m.stoppedBy}) after ${m.step} steps.`;
      setPhase('idle');
      break;
    case 'checkpoint': {
      const url = URL.createObjectURL(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = 'recur-model.safetensors';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      break;
    }
    case 'loaded':
      clearError();
      setModel(m.info);
      $('model-info').textContent = `Loaded ${m.name}: ${describe(m.info)}`;
      break;
    case 'char':
      $('sample-out').textContent += m.c;
      break;
    case 'sampleDone':
      lastSample = ($<HTMLInputElement>('prime').value || '\n') + m.text;
      $('sample-out').dataset.done = 'true';
      $<HTMLButtonElement>('sample').disabled = false;
      break;
    case 'activations':
      lastActivations = m;
      renderActivations();
      break;
    case 'error':
      showError(m.during === 'training' || m.during === 'train' ? `Training failed: ${m.message}` : m.message);
      if (m.during === 'sample') $<HTMLButtonElement>('sample').disabled = false;
      if (m.during === 'training') setPhase('idle');
      break;
  }
}

// ------------------------------------------------------------------ text sources

let shakespeare: string | null = null;
let fileText: { name: string; bytes: Uint8Array } | null = null;

$<HTMLInputElement>('text-file').addEventListener('change', async (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (!f) return;
  fileText = { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
  (document.querySelector('input[name=source][value=file]') as HTMLInputElement).checked = true;
});

/** The text to train on and its name for messages; the worker reads it as the CLI does (readCorpus). */
async function chosenText(): Promise<{ text: string; name: string }> {
  const source = (document.querySelector('input[name=source]:checked') as HTMLInputElement).value;
  if (source === 'paste') return { text: decodeText(new TextEncoder().encode(val('paste')), 'the pasted text'), name: 'the pasted text' };
  if (source === 'file') {
    if (!fileText) throw new Error('choose a text file first');
    // the CLI's own checks and sentences: empty, binary, not UTF-8
    const name = `'${fileText.name}'`;
    return { text: decodeText(fileText.bytes, name), name };
  }
  if (shakespeare === null) shakespeare = await (await fetch(shakespeareUrl)).text();
  const n = Number(val('excerpt'));
  return { text: n > 0 ? shakespeare.slice(0, n) : shakespeare, name: 'the Shakespeare excerpt' };
}

// ------------------------------------------------------------------ controls

$('start').addEventListener('click', async () => {
  clearError();
  let text: string, name: string;
  try {
    ({ text, name } = await chosenText());
  } catch (e) {
    showError((e as Error).message);
    return;
  }
  trainingText = text;
  const model: ModelSettings = {
    model: val('model') as ModelSettings['model'],
    layers: num('layers'),
    hidden: num('hidden'),
    // the block form's embedding is its width (the field shows it, disabled)
    embed: blocksOn() ? num('hidden') : num('embed'),
    dropout: num('dropout'),
    blocks: blocksOn(),
  };
  const train: TrainSettings = {
    batch: num('batch'),
    seq: num('seq'),
    optimizer: val('optimizer') as TrainSettings['optimizer'],
    lr: num('lr'),
    clip: num('clip'),
    schedule: val('schedule') as TrainSettings['schedule'],
    lrDecay: num('lr-decay'),
    warmup: num('warmup'),
    seconds: num('minutes') * 60,
    evalEvery: num('eval-every'),
    sampleEvery: num('sample-every'),
    seed: num('train-seed'),
  };
  if (train.schedule === 'cosine' && !(train.seconds > 0))
    return showError('the cosine schedule decays over the whole run, so it needs a time limit: set Minutes above 0, or choose Decay per epoch');
  firstLoss = null;
  delete $('stats').dataset.firstLoss;
  delete $('stats').dataset.valLoss;
  makeChart();
  $('train-samples').replaceChildren();
  setPhase('training');
  send({ type: 'train', text, name, model, train });
});
$('pause').addEventListener('click', () => send({ type: phase === 'paused' ? 'resume' : 'pause' }));
$('stop').addEventListener('click', () => send({ type: 'stop' }));
$('reset').addEventListener('click', () => {
  worker.terminate();
  hasModel = false;
  firstLoss = null;
  for (const id of ['st-step', 'st-epoch', 'st-loss', 'st-val', 'st-bpc', 'st-speed']) $(id).textContent = '–';
  $('train-samples').replaceChildren();
  $('sample-out').textContent = '';
  $('model-info').textContent = '';
  $('text-status').textContent = '';
  $('act-view').replaceChildren();
  $('act-what').textContent = '';
  makeChart();
  setPhase('idle');
  newWorker();
});

$('save').addEventListener('click', () => send({ type: 'save' }));
async function loadFile(f: File): Promise<void> {
  clearError();
  // checked before reading: a file of many GiB would take the tab down
  const tooBig = checkpointSizeProblem(f.size, `'${f.name}'`);
  if (tooBig) {
    showError(tooBig);
    return;
  }
  const bytes = new Uint8Array(await f.arrayBuffer());
  send({ type: 'load', bytes, name: f.name }, [bytes.buffer]);
}
$<HTMLInputElement>('load').addEventListener('change', (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (f) void loadFile(f);
});
const drop = $('drop');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
// the drop zone is focusable, so Enter or Space opens the file picker for keyboard users
drop.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    $<HTMLInputElement>('load').click();
  }
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const f = ev.dataTransfer?.files[0];
  if (f) void loadFile(f);
});

$('sample').addEventListener('click', () => {
  clearError();
  const prime = $<HTMLInputElement>('prime').value;
  const settings: SampleSettings = {
    prime: prime === '' ? undefined : prime,
    length: num('length'),
    temperature: num('temperature'),
    topK: optNum('top-k'),
    topP: optNum('top-p'),
    argmax: $<HTMLInputElement>('argmax').checked,
    seed: num('sample-seed'),
  };
  $('sample-out').textContent = prime;
  delete $('sample-out').dataset.done;
  $<HTMLButtonElement>('sample').disabled = true;
  send({ type: 'sample', settings });
});

// ------------------------------------------------------------------ cell activations

let lastActivations: Extract<FromWorker, { type: 'activations' }> | null = null;
const STATE_NAMES = { c: 'the cell state c', h: 'the hidden state h' } as const;

function renderActivations(): void {
  const a = lastActivations;
  if (!a) return;
  const cell = Math.min(a.hidden - 1, Math.max(0, num('act-cell')));
  const view = $('act-view');
  const frag = document.createDocumentFragment();
  a.chars.forEach((c, t) => {
    const v = a.values[t * a.hidden + cell];
    const span = document.createElement('span');
    span.textContent = c;
    span.style.background = activationColour(Math.tanh(v));
    span.title = `${JSON.stringify(c)}: ${v.toFixed(3)}`;
    frag.append(span);
  });
  view.replaceChildren(frag);
  const what = `${modelHasBlocks ? 'Block' : 'Layer'} ${a.layer + 1}, cell ${cell}: ${STATE_NAMES[a.state]} of ${CELL_KINDS[a.kind].article}, over ${a.chars.length} characters`;
  view.setAttribute('aria-label', what);
  $('act-what').textContent = `${what}.`;
}

function activationText(): string {
  return val('act-source') === 'sample' && lastSample ? lastSample : trainingText.slice(0, 1500) || lastSample;
}
$('act-show').addEventListener('click', () => {
  const text = activationText();
  if (!text) return showError('sample some text first, or train on a text');
  send({ type: 'activations', text, layer: Number(val('act-layer')) });
});
$('act-cell').addEventListener('input', renderActivations);
$('act-find').addEventListener('click', () => {
  const a = lastActivations;
  if (!a) return showError('press Show first, so there are activations to search');
  const series = patternSeries(a.chars, val('act-pattern') as Pattern);
  const best = topCells(correlations(a.values, a.chars.length, a.hidden, series), 5);
  const out = $('act-found');
  if (best.length === 0) {
    out.textContent = 'The pattern never changes in this text; pick another text or pattern.';
    return;
  }
  out.replaceChildren(
    'Best cells: ',
    ...best.flatMap(({ cell, r }, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = `${cell} (r = ${r.toFixed(2)})`;
      b.addEventListener('click', () => {
        $<HTMLInputElement>('act-cell').value = String(cell);
        renderActivations();
      });
      return i === 0 ? [b] : [' ', b];
    }),
  );
});

// ------------------------------------------------------------------ go

makeChart();
setPhase('idle');
newWorker();
