/** Greedy and beam-search decoding over step functions (no model needed: the steps are tables). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { beamSearch, greedyDecode, type StepFunction } from '../src/index.js';

const EOS = 0,
  BOS = 3;
const log = Math.log;

/**
 * A tiny "model" whose state is the prefix generated so far; the next-token
 * distribution is a table keyed by the prefix. Vocabulary: 0 = EOS, 1 = a, 2 = b, 3 = BOS.
 */
function tableModel(table: Record<string, number[]>): StepFunction<string[]> {
  return (tokens, prefixes) => {
    const V = 4;
    const logits = new Float64Array(tokens.length * V);
    const next = prefixes.map((p, i) => (tokens[i] === BOS ? p : p + 'xab'[tokens[i]]));
    next.forEach((p, i) => {
      const probs = table[p] ?? [1, 0, 0, 0];
      for (let v = 0; v < V; v++) logits[i * V + v] = log(probs[v] + 1e-12);
    });
    return { logits, state: next };
  };
}
const select = (s: string[], rows: Int32Array): string[] => Array.from(rows, (r) => s[r]);

describe('greedyDecode', () => {
  it('takes the most likely token per row until EOS or maxLen, several rows at once', () => {
    const step: StepFunction<number[]> = (tokens, st) => {
      // row r emits r+1 tokens of value 1, then EOS
      const V = 3;
      const logits = new Float32Array(tokens.length * V);
      const next = st.map((n, i) => n + (tokens[i] === BOS ? 0 : 1));
      next.forEach((n, i) => {
        logits[i * V + (n < i + 1 ? 1 : 0)] = 5;
      });
      return { logits, state: next };
    };
    assert.deepEqual(greedyDecode(step, [0, 0, 0], { rows: 3, bos: BOS, eos: EOS, maxLen: 10 }), [[1], [1, 1], [1, 1, 1]]);
    assert.deepEqual(greedyDecode(step, [0, 0, 0], { rows: 3, bos: BOS, eos: EOS, maxLen: 2 }), [[1], [1, 1], [1, 1]]);
    assert.throws(() => greedyDecode(step, [0], { rows: 1, bos: BOS, eos: EOS, maxLen: 0 }), /maxLen must be a whole number of at least 1/);
  });
});

describe('beamSearch', () => {
  // greedy takes 'a' (0.6) then is stuck with 0.4 * ...; the best sequence starts with 'b'
  const table: Record<string, number[]> = {
    '': [0, 0.6, 0.4, 0],
    a: [0.3, 0.35, 0.35, 0],
    aa: [1, 0, 0, 0],
    ab: [1, 0, 0, 0],
    b: [0.95, 0.05, 0, 0],
    ba: [1, 0, 0, 0],
  };
  it('finds a better sequence than greedy: "b" (0.38) beats greedy\'s "a" (0.18)', () => {
    const step = tableModel(table);
    const greedy = greedyDecode(step, [''], { rows: 1, bos: BOS, eos: EOS, maxLen: 5 });
    assert.deepEqual(greedy, [[1, 1]]); // a, then a (0.35, ties broken by index), then EOS: 0.6*0.35 = 0.21
    const beams = beamSearch(step, [''], { beamWidth: 2, bos: BOS, eos: EOS, maxLen: 5, lengthPenalty: 0, select });
    assert.deepEqual(beams[0].tokens, [2]);
    assert.ok(Math.abs(beams[0].logProb - log(0.4 * 0.95)) < 1e-9);
    assert.ok(beams[0].finished);
    assert.ok(beams.every((b, i) => i === 0 || b.score <= beams[i - 1].score));
  });
  it('width 1 is greedy; length normalisation changes the ranking', () => {
    const step = tableModel(table);
    const one = beamSearch(step, [''], { beamWidth: 1, bos: BOS, eos: EOS, maxLen: 5, select });
    assert.deepEqual(one[0].tokens, [1, 1]);
    // with a long, confident alternative, length normalisation prefers it over a short, unlikely one
    const t2: Record<string, number[]> = { '': [0.5, 0.5, 0, 0], a: [0, 0.99, 0, 0], aa: [0, 0.99, 0, 0], aaa: [0.99, 0, 0, 0] };
    const raw = beamSearch(tableModel(t2), [''], { beamWidth: 2, bos: BOS, eos: EOS, maxLen: 6, lengthPenalty: 0, select });
    const norm = beamSearch(tableModel(t2), [''], { beamWidth: 2, bos: BOS, eos: EOS, maxLen: 6, lengthPenalty: 1, select });
    assert.deepEqual(raw[0].tokens, []);
    assert.deepEqual(norm[0].tokens, [1, 1, 1]);
  });
  it('stops at maxLen with unfinished hypotheses marked as such', () => {
    const forever: Record<string, number[]> = {};
    let p = '';
    for (let i = 0; i < 10; i++) {
      forever[p] = [0, 0.9, 0.1, 0];
      p += 'a';
    }
    const res = beamSearch(tableModel(forever), [''], { beamWidth: 3, bos: BOS, eos: EOS, maxLen: 4, select });
    assert.equal(res[0].finished, false);
    assert.deepEqual(res[0].tokens, [1, 1, 1, 1]);
    assert.equal(res.length, 3);
  });
});
