/**
 * Encoder-decoder: translate dates as people write them ("5 March 2021",
 * "Mar 5, 21", "Friday, March 5th 2021", ...) to ISO format ("2021-03-05").
 * The data comes from a seeded generator over 1950-2049; a fifth of the
 * dates are held out (never seen in training in any format). A
 * bidirectional GRU reads the characters (with each string's length), its
 * final states start a GRU decoder over the output characters; training uses
 * teacher forcing, and the held-out dates are decoded greedily and with beam
 * search. With --attention dot the decoder also attends over the encoder's
 * outputs at every step (Luong's global dot attention).
 *
 *   npx tsx examples/dates.ts [--steps 1500] [--hidden 128] [--attention none|dot] [--beam 4] [--seed 1]
 */
import { pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import {
  Adam,
  CharTokenizer,
  Embedding,
  GRU,
  Linear,
  LuongAttention,
  Module,
  Rng,
  beamSearch,
  finalHidden,
  greedyDecode,
  padSequences,
  type Tensor,
} from '../src/index.js';
import { exampleArgs } from './example-args.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export interface DateValue {
  y: number;
  m: number; // 1..12
  d: number;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const ordinal = (n: number): string => `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;
export const iso = (v: DateValue): string => `${v.y}-${pad2(v.m)}-${pad2(v.d)}`;

/** The ways people write a date; two-digit years mean 1950-2049. */
const FORMATS: ((v: DateValue, wd: string) => string)[] = [
  (v) => `${v.d} ${MONTHS[v.m - 1]} ${v.y}`,
  (v) => `${MONTHS[v.m - 1].slice(0, 3)} ${v.d}, ${pad2(v.y % 100)}`,
  (v, wd) => `${wd}, ${MONTHS[v.m - 1]} ${ordinal(v.d)} ${v.y}`,
  (v) => `${MONTHS[v.m - 1]} ${v.d}, ${v.y}`,
  (v) => `${ordinal(v.d)} of ${MONTHS[v.m - 1]}, ${v.y}`,
  (v, wd) => `${wd.slice(0, 3)} ${v.d} ${MONTHS[v.m - 1].slice(0, 3)} ${v.y}`,
  (v) => `${pad2(v.d)} ${MONTHS[v.m - 1].slice(0, 3)} ${v.y}`,
  (v) => `${v.d}-${MONTHS[v.m - 1].slice(0, 3)}-${pad2(v.y % 100)}`,
  (v, wd) => `${wd} ${v.d} ${MONTHS[v.m - 1]} ${v.y}`,
  (v) => `${MONTHS[v.m - 1].toLowerCase()} ${v.d} ${v.y}`,
  (v) => `${MONTHS[v.m - 1].toUpperCase()} ${v.d}, ${v.y}`,
  (v) => `${v.y}/${pad2(v.m)}/${pad2(v.d)}`,
  (v) => `${v.d}.${v.m}.${v.y}`,
  (v) => `${MONTHS[v.m - 1]} ${ordinal(v.d)}, '${pad2(v.y % 100)}`,
];

export function humanDate(v: DateValue, rng: Rng): string {
  const wd = DAYS[new Date(Date.UTC(v.y, v.m - 1, v.d)).getUTCDay()];
  return FORMATS[rng.int(FORMATS.length)](v, wd);
}

/** Every date from 1950-01-01 to 2049-12-31, shuffled with `seed` and split: [train, held out]. */
export function splitDates(seed: number, heldOut = 0.2): [DateValue[], DateValue[]] {
  const all: DateValue[] = [];
  for (let t = Date.UTC(1950, 0, 1); t <= Date.UTC(2049, 11, 31); t += 86400000) {
    const dt = new Date(t);
    all.push({ y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate() });
  }
  new Rng(seed).shuffle(all);
  const n = Math.round(all.length * heldOut);
  return [all.slice(n), all.slice(0, n)];
}

const inputChars = [
  ...new Set(["0123456789 ,.-/'", ...MONTHS, ...DAYS, ...MONTHS.map((m) => m.toUpperCase()), ...MONTHS.map((m) => m.toLowerCase()), 'stndrdhof'].join('')),
].join('');

/** What the decoder needs from the encoder: its state, and for attention its outputs and the source lengths. */
interface DecoderState {
  h: Tensor;
  enc: Tensor;
  lengths: number[];
}

class DateTranslator extends Module {
  srcEmbed: Embedding;
  encoder: GRU;
  bridge: Linear;
  tgtEmbed: Embedding;
  decoder: GRU;
  attention: LuongAttention | null;
  head: Linear;
  constructor(srcVocab: number, tgtVocab: number, hidden: number, attention: boolean, rng: Rng) {
    super();
    this.srcEmbed = new Embedding(srcVocab, 32, { rng });
    this.encoder = new GRU({ inputSize: 32, hiddenSize: hidden / 2, bidirectional: true, rng });
    this.bridge = new Linear(hidden, hidden, { rng });
    this.tgtEmbed = new Embedding(tgtVocab, 16, { rng });
    this.decoder = new GRU({ inputSize: 16, hiddenSize: hidden, rng });
    this.attention = attention ? new LuongAttention(hidden, { rng }) : null;
    this.head = new Linear(hidden, tgtVocab, { rng });
  }
  /** Encode padded source ids [B, T] with their lengths: the decoder's initial state [1, B, hidden] and the encoder outputs. */
  encode(ids: Int32Array, B: number, T: number, lengths: number[]): DecoderState {
    const { output, state } = this.encoder.forward(this.srcEmbed.forward(r.tensor(ids, [B, T])), { lengths });
    return { h: r.tanh(this.bridge.forward(finalHidden(this.encoder, state))).unsqueeze(0), enc: output, lengths };
  }
  /** Next-character logits [B, T, vocab] for decoder input ids [B, T], and the new state. */
  forward(ids: Int32Array, B: number, T: number, s: DecoderState): { logits: Tensor; state: DecoderState } {
    const { output, state } = this.decoder.forward(this.tgtEmbed.forward(r.tensor(ids, [B, T])), { state: { h: s.h } });
    const top = this.attention ? this.attention.forward(output, s.enc, s.lengths).output : output;
    return { logits: this.head.forward(top), state: { ...s, h: state.h } };
  }
}

/** The decoder state's rows in a new order (for beam search). */
const selectRows = (s: DecoderState, rows: Int32Array): DecoderState => ({
  h: r.indexSelect(s.h, 1, rows),
  enc: r.indexSelect(s.enc, 0, rows),
  lengths: Array.from(rows, (i) => s.lengths[i]),
});

export interface DatesResult {
  greedy: number;
  beam: number;
  beamWidth: number;
  testSize: number;
  examples: string[];
  steps: number;
  seconds: number;
}

export function dates(
  o: {
    steps?: number;
    hidden?: number;
    batch?: number;
    lr?: number;
    attention?: 'none' | 'dot';
    beamWidth?: number;
    testSize?: number;
    seed?: number;
    log?: (s: string) => void;
  } = {},
): DatesResult {
  const { steps = 1500, hidden = 128, batch = 64, lr = 3e-3, attention = 'none', beamWidth = 4, testSize = 1000, seed = 1 } = o;
  const log = o.log ?? (() => {});
  const rng = new Rng(seed);
  const src = CharTokenizer.fromTexts(inputChars, { specials: ['<pad>'] });
  const tgt = CharTokenizer.fromTexts('0123456789-', { specials: ['<pad>', '<sos>', '<eos>'] });
  const SOS = tgt.id('<sos>'),
    EOS = tgt.id('<eos>');
  const [trainDates, testDates] = splitDates(seed);
  const model = new DateTranslator(src.size, tgt.size, hidden, attention === 'dot', rng);
  const opt = new Adam(model.parameters(), { lr });
  const source = (texts: string[]) =>
    padSequences(
      texts.map((t) => src.encode(t)),
      { dtype: 'int32', value: 0 },
    );

  const t0 = performance.now();
  for (let step = 1; step <= steps; step++) {
    opt.lr = lr * Math.pow(0.1, (step - 1) / steps);
    const ds = Array.from({ length: batch }, () => trainDates[rng.int(trainDates.length)]);
    const x = source(ds.map((d) => humanDate(d, rng)));
    const out = ds.map((d) => Array.from(tgt.encode(iso(d))));
    const yin = padSequences(
      out.map((ids) => [SOS, ...ids]),
      { dtype: 'int32' },
    );
    const yout = padSequences(
      out.map((ids) => [...ids, EOS]),
      { dtype: 'int32' },
    );
    const loss = r.tidy(() => {
      const enc = model.encode(x.data, batch, x.shape[1], x.lengths);
      const l = r.crossEntropy(model.forward(yin.data, batch, yin.shape[1], enc).logits, r.tensor(yout.data, yout.shape));
      opt.zeroGrad();
      l.backward();
      r.clipGradNorm(model.parameters(), 5);
      opt.step();
      return l.item();
    });
    if (step % 500 === 0) log(`step ${step}: loss ${loss.toFixed(4)} per character`);
  }
  const seconds = (performance.now() - t0) / 1000;

  // held-out dates, each in a random format
  const testRng = new Rng(seed + 1000);
  const tests = Array.from({ length: testSize }, () => testDates[testRng.int(testDates.length)]).map((d) => ({ text: humanDate(d, testRng), want: iso(d) }));
  const step = (tokens: Int32Array, s: DecoderState) => {
    const o2 = model.forward(tokens, tokens.length, 1, s);
    return { logits: o2.logits.data, state: o2.state };
  };
  const greedyOut: string[] = [];
  for (let i = 0; i < tests.length; i += 250) {
    const chunk = tests.slice(i, i + 250);
    greedyOut.push(
      ...r.noGrad(() =>
        r.tidy(() => {
          const x = source(chunk.map((t) => t.text));
          const rows = greedyDecode(step, model.encode(x.data, chunk.length, x.shape[1], x.lengths), { rows: chunk.length, bos: SOS, eos: EOS, maxLen: 12 });
          return rows.map((ids) => tgt.decode(ids, { skipSpecials: true }));
        }),
      ),
    );
  }
  const beamOut = tests.map((t) =>
    r.noGrad(() =>
      r.tidy(() => {
        const x = source([t.text]);
        const best = beamSearch(step, model.encode(x.data, 1, x.shape[1], x.lengths), {
          beamWidth,
          bos: SOS,
          eos: EOS,
          maxLen: 12,
          select: selectRows,
        })[0];
        return tgt.decode(best.tokens, { skipSpecials: true });
      }),
    ),
  );
  const greedy = greedyOut.filter((s, i) => s === tests[i].want).length / tests.length;
  const beam = beamOut.filter((s, i) => s === tests[i].want).length / tests.length;
  const examples = tests.slice(0, 6).map((t, i) => `"${t.text}" -> ${beamOut[i]}`);
  return { greedy, beam, beamWidth, testSize: tests.length, examples, steps, seconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('dates', {
    numbers: { steps: ['count', 1500], hidden: ['count', 128], beam: ['count', 4], seed: ['number', 1] },
    strings: { attention: 'none' },
  });
  if (values.attention !== 'none' && values.attention !== 'dot') {
    console.error(`dates: --attention must be none or dot, got '${values.attention}'`);
    process.exit(2);
  }
  const res = dates({
    steps: values.steps,
    hidden: values.hidden,
    attention: values.attention,
    beamWidth: values.beam,
    seed: values.seed,
    log: console.log,
  });
  console.log(`examples: ${res.examples.join('; ')}`);
  console.log(
    `dates to ISO (attention: ${values.attention}): exact match ${(100 * res.greedy).toFixed(2)}% greedy, ${(100 * res.beam).toFixed(2)}% beam (width ${res.beamWidth}) on ${res.testSize} held-out dates, ${res.steps} steps, ${res.seconds.toFixed(0)} s of training`,
  );
}
