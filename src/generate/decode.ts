/**
 * Greedy and beam-search decoding over any step function: the model is a
 * function from (the previous token of each row, a state) to (next-token
 * logits for each row, the new state). The state is opaque here (tensors,
 * arrays, anything); beam search reorders it through `select`. Works for
 * decoders conditioned on an encoder (seq2seq), on a vector (vector-to-sequence)
 * or on nothing (language models). Builds no graph of its own: call it under
 * `noGrad` and inside `tidy` when the step makes tensors.
 */

/** One decoding step for `tokens.length` rows: logits are row-major [rows, vocab]. */
export type StepFunction<S> = (
  tokens: Int32Array,
  state: S,
) => {
  /** Next-token scores, row-major [rows, vocab]. */
  logits: ArrayLike<number>;
  /** The state after this step. */
  state: S;
};

/** The tokens that start and end a decoded sequence, and the longest one. */
export interface DecodeOptions {
  /** The token fed first (start of sequence). */
  bos: number;
  /** The token that ends a sequence (not included in the results). */
  eos: number;
  /** Stop after this many generated tokens (EOS included) if EOS has not come. */
  maxLen: number;
}

function checkDecode(op: string, o: DecodeOptions): void {
  for (const k of ['bos', 'eos'] as const) if (!(Number.isInteger(o[k]) && o[k] >= 0)) throw new Error(`${op}: ${k} must be a token id, got ${o[k]}`);
  if (!(Number.isInteger(o.maxLen) && o.maxLen >= 1)) throw new Error(`${op}: maxLen must be a whole number of at least 1, got ${o.maxLen}`);
}

function vocabOf(op: string, logits: ArrayLike<number>, rows: number): number {
  const V = logits.length / rows;
  if (!Number.isInteger(V) || V < 1) throw new Error(`${op}: the step returned ${logits.length} logits for ${rows} rows`);
  return V;
}

/**
 * Greedy decoding of `rows` sequences at once: at each step every unfinished
 * row takes its most likely token. Returns each row's tokens without EOS.
 */
export function greedyDecode<S>(step: StepFunction<S>, state: S, o: DecodeOptions & { rows: number }): number[][] {
  checkDecode('greedyDecode', o);
  if (!(Number.isInteger(o.rows) && o.rows >= 1)) throw new Error(`greedyDecode: rows must be a whole number of at least 1, got ${o.rows}`);
  const out: number[][] = Array.from({ length: o.rows }, () => []);
  const done = new Uint8Array(o.rows);
  const tokens = new Int32Array(o.rows).fill(o.bos);
  let left = o.rows;
  for (let t = 0; t < o.maxLen && left > 0; t++) {
    const r = step(tokens, state);
    state = r.state;
    const V = vocabOf('greedyDecode', r.logits, o.rows);
    for (let b = 0; b < o.rows; b++) {
      if (done[b]) {
        tokens[b] = o.eos;
        continue;
      }
      let best = 0;
      for (let v = 1; v < V; v++) if (r.logits[b * V + v] > r.logits[b * V + best]) best = v;
      tokens[b] = best;
      if (best === o.eos) {
        done[b] = 1;
        left--;
      } else {
        out[b].push(best);
      }
    }
  }
  return out;
}

/** `beamSearch`'s options: decoding's, plus the beam and how states follow it. */
export interface BeamOptions<S> extends DecodeOptions {
  /** Hypotheses kept at each step (and returned). */
  beamWidth: number;
  /**
   * Length normalisation: hypotheses are ranked by logProb / length^lengthPenalty
   * (length counts EOS). 0 ranks by total log-probability, which favours short
   * outputs; 1 (default) by the mean log-probability per token.
   */
  lengthPenalty?: number;
  /** The state's rows in the given order (rows may repeat): how beams follow their parents. */
  select: (state: S, rows: Int32Array) => S;
}

/** One sequence beam search found. */
export interface Hypothesis {
  /** Generated tokens without EOS. */
  tokens: number[];
  /** Total log-probability (EOS included when finished). */
  logProb: number;
  /** The length-normalised score hypotheses are ranked by. */
  score: number;
  /** Whether it ended with EOS (false: it reached maxLen). */
  finished: boolean;
}

function logSoftmaxRow(logits: ArrayLike<number>, off: number, V: number, out: Float64Array): void {
  let m = -Infinity;
  for (let v = 0; v < V; v++) m = Math.max(m, logits[off + v]);
  let s = 0;
  for (let v = 0; v < V; v++) s += Math.exp(logits[off + v] - m);
  const lse = m + Math.log(s);
  for (let v = 0; v < V; v++) out[v] = logits[off + v] - lse;
}

/**
 * Beam search for one sequence: `state` has one row; returns up to beamWidth
 * hypotheses, best first. Each step keeps the beamWidth best continuations;
 * one that ends (EOS) among them leaves the beam as a finished hypothesis. The
 * search stops when beamWidth hypotheses have finished and no live beam
 * scores better than the worst of them (exact for lengthPenalty 0, the usual
 * heuristic otherwise), or at maxLen, where live beams are ranked with the
 * finished ones.
 *
 * @example
 * ```ts
 * // a toy decoder whose state is the step number: it prefers token 2, then EOS (1)
 * const step: StepFunction<number> = (tokens, t) => ({ logits: Array.from(tokens, () => (t < 3 ? [0, -1, 1] : [0, 2, 0])).flat(), state: t + 1 });
 * const [best] = beamSearch(step, 0, { bos: 0, eos: 1, maxLen: 10, beamWidth: 3, select: (t) => t });
 * best.tokens; // [2, 2, 2]
 * ```
 */
export function beamSearch<S>(step: StepFunction<S>, state: S, o: BeamOptions<S>): Hypothesis[] {
  checkDecode('beamSearch', o);
  const K = o.beamWidth;
  if (!(Number.isInteger(K) && K >= 1)) throw new Error(`beamSearch: beamWidth must be a whole number of at least 1, got ${K}`);
  const alpha = o.lengthPenalty ?? 1;
  if (!(alpha >= 0 && Number.isFinite(alpha))) throw new Error(`beamSearch: lengthPenalty must be a number of at least 0, got ${alpha}`);
  const score = (logProb: number, len: number): number => logProb / Math.pow(len, alpha);
  let beams: { tokens: number[]; logProb: number }[] = [{ tokens: [], logProb: 0 }];
  let last = Int32Array.of(o.bos);
  const finished: Hypothesis[] = [];
  let lp = new Float64Array(0);
  for (let t = 0; t < o.maxLen; t++) {
    const r = step(last, state);
    const V = vocabOf('beamSearch', r.logits, beams.length);
    if (lp.length !== V) lp = new Float64Array(V);
    // the best 2K continuations over all beams: enough for K that do not end
    const cands: { parent: number; token: number; logProb: number }[] = [];
    for (let i = 0; i < beams.length; i++) {
      logSoftmaxRow(r.logits, i * V, V, lp);
      for (let v = 0; v < V; v++) {
        const total = beams[i].logProb + lp[v];
        if (cands.length < 2 * K) {
          cands.push({ parent: i, token: v, logProb: total });
          if (cands.length === 2 * K) cands.sort((a, b) => b.logProb - a.logProb);
        } else if (total > cands[cands.length - 1].logProb) {
          let j = cands.length - 1;
          while (j > 0 && cands[j - 1].logProb < total) j--;
          cands.splice(j, 0, { parent: i, token: v, logProb: total });
          cands.pop();
        }
      }
    }
    cands.sort((a, b) => b.logProb - a.logProb);
    const next: { tokens: number[]; logProb: number }[] = [];
    const parents: number[] = [];
    for (let rank = 0; rank < cands.length && next.length < K; rank++) {
      const c = cands[rank];
      const tokens = beams[c.parent].tokens;
      // an ending counts only if it ranks among the best K continuations (else beams fill up with unlikely EOS)
      if (c.token === o.eos) {
        if (rank < K) finished.push({ tokens: [...tokens], logProb: c.logProb, score: score(c.logProb, tokens.length + 1), finished: true });
      } else {
        next.push({ tokens: [...tokens, c.token], logProb: c.logProb });
        parents.push(c.parent);
      }
    }
    finished.sort((a, b) => b.score - a.score);
    finished.length = Math.min(finished.length, K);
    beams = next;
    // done when K hypotheses have ended and no live beam scores better than the worst of them
    const bestAlive = Math.max(...next.map((b) => score(b.logProb, b.tokens.length)));
    if (next.length === 0 || (finished.length === K && bestAlive <= finished[K - 1].score)) break;
    state = o.select(r.state, Int32Array.from(parents));
    last = Int32Array.from(next.map((b) => b.tokens[b.tokens.length - 1]));
  }
  const all = [...finished, ...beams.map((b) => ({ tokens: b.tokens, logProb: b.logProb, score: score(b.logProb, b.tokens.length), finished: false }))];
  return all.sort((a, b) => b.score - a.score).slice(0, K);
}
