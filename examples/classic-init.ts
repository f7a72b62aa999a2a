/**
 * The initial weights of the classic set-ups that the reproductions re-run,
 * written into a LanguageModel that recur built with PyTorch's
 * initialisation, so that how a run starts is the source's and not ours.
 * Each reads the model's parameters by their PyTorch names.
 */
import { init, type LanguageModel, type Rng, type Tensor } from '../src/index.js';

function each(model: LanguageModel, fill: (name: string, t: Tensor) => void): void {
  for (const [name, t] of model.namedParameters()) fill(name, t);
}

/**
 * TensorFlow 1's defaults, as char-rnn-tensorflow gets them from
 * tf.get_variable and BasicLSTMCell: Glorot uniform everywhere, the LSTM's
 * biases zero. An LSTM layer's kernel is one [in + H, 4H] matrix there, so
 * its bound counts both inputs; a 1-D variable (the softmax bias) counts its
 * length as both fans.
 */
export function tensorflowInit(model: LanguageModel, rng: Rng): void {
  const glorot = (t: Tensor, fanIn: number, fanOut: number): void => {
    const a = Math.sqrt(6 / (fanIn + fanOut));
    init.uniform_(t, -a, a, rng);
  };
  each(model, (name, t) => {
    if (/^rnn\.bias_/.test(name)) init.zeros_(t);
    else if (/^rnn\.weight_(ih|hh)_l(\d+)$/.test(name)) {
      const layer = name.match(/_l(\d+)$/)![1];
      const ih = model.namedParameters().find(([n]) => n === `rnn.weight_ih_l${layer}`)![1];
      const hh = model.namedParameters().find(([n]) => n === `rnn.weight_hh_l${layer}`)![1];
      glorot(t, ih.shape[1] + hh.shape[1], t.shape[0]);
    } else if (t.rank === 1) glorot(t, t.shape[0], t.shape[0]);
    else glorot(t, t.shape[1], t.shape[0]);
  });
}

/**
 * Grokking Deep Learning's chapter 13 and 14 layers: an embedding uniform in
 * ±0.5 / dim (word2vec's convention), every Linear N(0, 2 / inputs) with a
 * zero bias, and the LSTM's output layer zeroed, so the first predictions
 * are uniform.
 */
export function grokkingInit(model: LanguageModel, rng: Rng): void {
  each(model, (name, t) => {
    if (name === 'embedding.weight') init.uniform_(t, -0.5 / t.shape[1], 0.5 / t.shape[1], rng);
    else if (name.startsWith('head.') || /bias/.test(name)) init.zeros_(t);
    else init.normal_(t, 0, Math.sqrt(2 / t.shape[1]), rng);
  });
}
