/**
 * TensorFlow's LSTM options in the language model (config.forgetBias, a
 * constant on the forget gate, and config.peepholes), in both forms: what
 * they compute (a constant offset is a bias folded in; peepholes take part),
 * the batch-1 stepper and the embeddable sampler against forward, the
 * checkpoint (version 4, old files mean 0), the config's checks and the
 * architecture's description. The kernels are gradchecked in
 * rnn-fused.test.ts and compared across backends in backend-conformance.ts;
 * the CLI and PyTorch in cli-lstm-options.test.ts, ONNX in onnx.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import {
  CharTokenizer,
  LanguageModel,
  LMStepper,
  Rng,
  decodeCheckpoint,
  describeArchitecture,
  encodeCheckpoint,
  sampleText,
  writeSafetensors,
} from '../src/index.js';
import { Sampler } from '../src/sampler/index.js';
import type { StepperCore } from '../src/generate/stepper-core.js';
import { CELL_KINDS, offsetGateBlock, peepholeParamNames } from '../src/nn/rnn/kinds.js';
import type { LanguageModelConfig } from '../src/models/config.js';
import { assertClose } from './helpers.js';

const V = 11;
const vocab = new CharTokenizer('abcdefghij\n'.split(''));
const IDS = Int32Array.from({ length: 9 }, (_, i) => (i * 5 + 3) % V);

/** The options crossed with both forms: an LSTM of 2 layers (or blocks) of 8. */
const VARIANTS: { what: string; config: LanguageModelConfig }[] = [];
for (const blocks of [false, true]) {
  for (const lstm of [{ forgetBias: 1.5 }, { peepholes: true }, { forgetBias: -0.75, peepholes: true }]) {
    const what = `${blocks ? 'blocks' : 'plain stack'}, ${Object.entries(lstm)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`;
    VARIANTS.push({ what, config: { vocabSize: V, model: 'lstm', layers: 2, hidden: 8, embed: blocks ? 8 : 6, dropout: 0, blocks, ...lstm } });
  }
}

/** The state-dict names of every layer's (or block's) forget-gate input bias. */
function forgetBiasNames(c: LanguageModelConfig): string[] {
  const name = CELL_KINDS.lstm.params(0).biasIh;
  if (c.blocks) return Array.from({ length: c.layers }, (_, i) => `blocks.${i}.cell.${name}`);
  return Array.from({ length: c.layers }, (_, l) => `rnn.${CELL_KINDS.lstm.params(l).biasIh}`);
}

/** The model's weights with `offset` added to every forget-gate input bias: what a constant offset is equivalent to. */
function foldedWeights(m: LanguageModel, offset: number): Record<string, r.Tensor> {
  const sd = { ...m.stateDict() };
  const H = m.config.hidden;
  const f = offsetGateBlock('lstm');
  for (const name of forgetBiasNames(m.config)) {
    const b = sd[name].toFloat32Array();
    for (let j = f * H; j < (f + 1) * H; j++) b[j] += offset;
    sd[name] = r.tensor(b, [b.length]);
  }
  return sd;
}

const maxDifference = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

const logitsOf = (m: LanguageModel): Float32Array => {
  m.eval();
  return r.noGrad(() => m.forward(IDS, 1, IDS.length)).logits.toFloat32Array();
};

describe("the language model with TensorFlow's LSTM options", () => {
  for (const { what, config } of VARIANTS) {
    it(`${what}: the options take part in forward, and config.forgetBias is exactly a constant on the forget gate`, () => {
      const m = new LanguageModel(config, { rng: new Rng(3) });
      const got = logitsOf(m);
      const B = config.forgetBias ?? 0;
      const { forgetBias: _, ...withoutOffset } = config;
      if (B !== 0) {
        const plain = new LanguageModel(withoutOffset, { rng: new Rng(9) });
        plain.loadStateDict(m.stateDict());
        assert.ok(maxDifference(logitsOf(plain), got) > 1e-3, 'forgetBias changes the logits');
        plain.loadStateDict(foldedWeights(m, B));
        assertClose(logitsOf(plain), got, 1e-5, 1e-4, 'the offset folded into the forget biases');
      }
      if (config.peepholes) {
        const sd = m.stateDict();
        const zeroed = new LanguageModel(config, { rng: new Rng(9) });
        zeroed.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, /weight_c[ifo]_l\d+$/.test(k) ? r.zeros(t.shape) : t])));
        assert.ok(maxDifference(logitsOf(zeroed), got) > 1e-3, 'the peephole weights change the logits');
      }
    });

    for (const backend of ['wasm', 'js'] as const) {
      it(`${backend}: ${what}: the batch-1 stepper gives forward's logits step by step, and its state`, () => {
        r.withBackend(backend, () => {
          const m = new LanguageModel(config, { rng: new Rng(5) });
          m.eval();
          const T = IDS.length;
          const want = r.noGrad(() => m.forward(IDS, 1, T));
          const stepper = new LMStepper(m);
          for (let t = 0; t < T; t++) assertClose(stepper.step(IDS[t]), want.logits.data.subarray(t * V, (t + 1) * V), 1e-5, 1e-4, `step ${t}`);
          const st = stepper.state();
          assertClose(st.h.data, want.state.h.data, 1e-5, 1e-4, 'h');
          assertClose(st.c!.data, want.state.c!.data, 1e-5, 1e-4, 'c');
          stepper.dispose();
        });
      });
    }

    it(`${what}: a checkpoint (version 4) brings back the config, the weights and the logits; the embeddable sampler samples what recur samples`, () => {
      r.withBackend('js', () => {
        const m = new LanguageModel(config, { rng: new Rng(7) });
        const bytes = encodeCheckpoint(m, vocab);
        assert.equal(JSON.parse(r.readSafetensorsMetadata(bytes).recur).version, 4);
        const ck = decodeCheckpoint(bytes);
        assert.deepEqual(ck.model.config, config);
        assert.deepEqual(Object.keys(ck.model.stateDict()), Object.keys(m.stateDict()));
        if (config.peepholes) {
          const prefix = config.blocks ? 'blocks.1.cell.' : 'rnn.';
          for (const name of Object.values(peepholeParamNames(config.blocks ? 0 : 1))) assert.ok(`${prefix}${name}` in ck.model.stateDict(), name);
        }
        assert.deepEqual(Array.from(logitsOf(ck.model)), Array.from(logitsOf(m)));
        const opts = { length: 120, seed: 4, temperature: 1.5 };
        const sampler = new Sampler(bytes);
        assert.equal(sampler.sample(opts), sampleText(ck.model, vocab, opts));
        // a text barely shows what an untrained model's logits do, so the sampler's own stepper (private: the class gives out
        // only text) against forward, on which the options have a far larger effect than this tolerance
        const core = (sampler as unknown as { stepper: StepperCore }).stepper;
        core.resetArrays();
        const want = logitsOf(m);
        IDS.forEach((id, t) => assertClose(core.step(id), want.subarray(t * V, (t + 1) * V), 1e-5, 1e-4, `sampler, step ${t}`));
      });
    });
  }

  it('models without the options keep their checkpoint version and write neither field; a checkpoint from before them means 0 and no peepholes', () => {
    const config: LanguageModelConfig = { vocabSize: V, model: 'lstm', layers: 1, hidden: 4, embed: 3, dropout: 0 };
    const m = new LanguageModel(config, { rng: new Rng(1) });
    const meta = JSON.parse(r.readSafetensorsMetadata(encodeCheckpoint(m, vocab)).recur);
    assert.equal(meta.version, 1);
    assert.deepEqual(Object.keys(meta.config), ['vocabSize', 'model', 'layers', 'hidden', 'embed', 'dropout']);
    const ck = decodeCheckpoint(encodeCheckpoint(m, vocab));
    assert.equal(ck.model.rnn!.forgetGateOffset, 0);
    assert.equal(ck.model.rnn!.peepholesEnabled, false);
    const zero = new LanguageModel({ ...config, forgetBias: 0, peepholes: false }, { rng: new Rng(1) });
    assert.equal(JSON.parse(r.readSafetensorsMetadata(encodeCheckpoint(zero, vocab)).recur).version, 1, 'an explicit 0 and false use nothing new');
  });

  it('the config is checked: forgetBias a number, peepholes true or false, both for an LSTM only; a checkpoint that breaks this is one sentence', () => {
    const base: LanguageModelConfig = { vocabSize: V, model: 'lstm', layers: 1, hidden: 4, embed: 3, dropout: 0 };
    const bad = (c: object) => () => new LanguageModel({ ...base, ...c } as LanguageModelConfig);
    assert.throws(bad({ forgetBias: '1' }), { message: 'forgetBias must be a number, got "1"' });
    assert.throws(bad({ forgetBias: Infinity }), { message: 'forgetBias must be a number, got null' });
    assert.throws(bad({ peepholes: 'yes' }), { message: 'peepholes must be true or false, got "yes"' });
    assert.throws(bad({ model: 'gru', forgetBias: 1 }), { message: "forgetBias (a constant on an LSTM's forget gate) is for LSTM models, not a GRU" });
    assert.throws(bad({ model: 'minlstm', peepholes: true }), { message: "peepholes (from an LSTM's cell state) are for LSTM models, not a MinLSTM" });
    assert.throws(
      bad({ model: 'mingru', peepholes: true, blocks: true, embed: 4 }),
      /peepholes \(from an LSTM's cell state\) are for LSTM models, not a MinGRU/,
    );
    // a GRU checkpoint whose config claims a forget bias
    const gru = encodeCheckpoint(new LanguageModel({ ...base, model: 'gru' }), vocab);
    const meta = JSON.parse(r.readSafetensorsMetadata(gru).recur);
    const tampered = writeSafetensors(r.readSafetensors(gru), {
      recur: JSON.stringify({ ...meta, config: { ...meta.config, forgetBias: 2 }, checksums: undefined }),
    });
    assert.throws(() => decodeCheckpoint(tampered, 'gru.safetensors'), {
      message: "gru.safetensors does not match its own model description: forgetBias (a constant on an LSTM's forget gate) is for LSTM models, not a GRU",
    });
    // an LSTM checkpoint that claims peepholes it does not have
    const lstm = encodeCheckpoint(new LanguageModel(base), vocab);
    const lmeta = JSON.parse(r.readSafetensorsMetadata(lstm).recur);
    const claims = writeSafetensors(r.readSafetensors(lstm), {
      recur: JSON.stringify({ ...lmeta, config: { ...lmeta.config, peepholes: true }, checksums: undefined }),
    });
    assert.throws(() => decodeCheckpoint(claims, 'p.safetensors'), {
      message: "p.safetensors does not match its own model description: 'rnn.weight_ci_l0' is missing",
    });
  });

  it('layers refuse the options for other kinds, and a forget-gate offset that is not a number', () => {
    assert.throws(() => r.recurrentLayerOf('gru', { inputSize: 2, hiddenSize: 3, peepholes: true }), {
      message: 'GRU: peepholes and forgetGateOffset are LSTM options; a GRU has neither',
    });
    assert.throws(
      () => r.recurrentLayerOf('minlstm', { inputSize: 2, hiddenSize: 3, forgetGateOffset: 1 }),
      /MinLSTM: peepholes and forgetGateOffset are LSTM options/,
    );
    assert.throws(() => new r.LSTM({ inputSize: 2, hiddenSize: 3, forgetGateOffset: NaN }), {
      message: 'LSTM: forgetGateOffset must be a finite number, got NaN',
    });
    const layer = r.recurrentLayerOf('lstm', { inputSize: 2, hiddenSize: 3, peepholes: true, forgetGateOffset: 1 });
    assert.equal(layer.forgetGateOffset, 1);
    assert.ok(layer.peepholesEnabled);
  });

  it('LSTMCell takes the offset as well, as exactly a constant on the forget gate', () => {
    const a = new r.LSTMCell({ inputSize: 2, hiddenSize: 3, forgetGateOffset: 2, rng: new Rng(1) });
    const b = new r.LSTMCell({ inputSize: 2, hiddenSize: 3, rng: new Rng(1) });
    const f = offsetGateBlock('lstm');
    const bias = b.bias_ih!.toFloat32Array();
    for (let j = 3 * f; j < 3 * (f + 1); j++) bias[j] += 2;
    b.loadStateDict({ ...b.stateDict(), bias_ih: r.tensor(bias, [12]) });
    const x = r.ones([1, 2]);
    const state: [r.Tensor, r.Tensor] = [r.zeros([1, 3]), r.ones([1, 3])];
    assertClose(a.forward(x, state)[1].data, b.forward(x, state)[1].data, 1e-6, 1e-5, 'c');
  });

  it('describeArchitecture names the options when they are used', () => {
    const c = { model: 'lstm', layers: 2, hidden: 128, embed: 64, dropout: 0 } as const;
    assert.equal(describeArchitecture({ ...c, forgetBias: 1, peepholes: true }), '2 x 128 LSTM (peepholes, forget bias 1), embedding 64');
    assert.equal(describeArchitecture({ ...c, forgetBias: 0.5 }), '2 x 128 LSTM (forget bias 0.5), embedding 64');
    assert.equal(describeArchitecture({ ...c, forgetBias: 0, peepholes: false }), '2 x 128 LSTM, embedding 64');
    assert.equal(describeArchitecture({ ...c, embed: 128, blocks: true, peepholes: true }), '2 blocks x 128 LSTM (peepholes; RMSNorm, GELU FFN 512)');
  });
});
