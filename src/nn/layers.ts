/** The basic layers: Linear, Embedding, Dropout, RMSNorm, Sequential and activation modules. */
import { ones, zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { globalRng, type Rng } from '../random/rng.js';
import { linear } from '../ops/linear.js';
import { embedding, type Indices } from '../ops/indexing.js';
import { dropout } from '../ops/dropout.js';
import { gelu, relu, sigmoid, tanh } from '../ops/unary.js';
import { rmsNorm } from '../ops/norm.js';
import { RMS_NORM_EPS } from '../ops/norm-gelu-core.js';
import { softmax, logSoftmax } from '../ops/softmax.js';
import { Module, parameter } from './module.js';
import { normal_, uniform_ } from './init.js';

function checkPositiveInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${op}: ${name} must be a positive integer, got ${v}`);
}

/** Options of `Linear`. */
export interface LinearOptions {
  /** Whether to add a learned bias (default true). */
  bias?: boolean;
  /** The generator for the initial weights (default the global one). */
  rng?: Rng;
}

/** y = x Wᵀ + b, W [out, in] as in PyTorch, initialised U(-1/√in, 1/√in) like nn.Linear. */
export class Linear extends Module {
  /** The weights [outFeatures, inFeatures]. */
  weight: Tensor;
  /** The bias [outFeatures], or null when made with `bias: false`. */
  bias: Tensor | null;
  constructor(
    /** The size of each input's last dimension. */
    readonly inFeatures: number,
    /** The size of each output's last dimension. */
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    const { bias = true, rng = globalRng } = opts;
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = parameter(uniform_(zeros([outFeatures, inFeatures]), -bound, bound, rng));
    this.bias = bias ? parameter(uniform_(zeros([outFeatures]), -bound, bound, rng)) : null;
  }
  /** [..., inFeatures] -> [..., outFeatures]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** A lookup table [num, dim], initialised N(0, 1) like nn.Embedding. */
export class Embedding extends Module {
  /** The table [numEmbeddings, embeddingDim]: row i is token i's vector. */
  weight: Tensor;
  constructor(
    /** How many ids the table has rows for (the vocabulary size). */
    readonly numEmbeddings: number,
    /** The length of each row. */
    readonly embeddingDim: number,
    opts: { rng?: Rng } = {},
  ) {
    super();
    checkPositiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    checkPositiveInt('Embedding', 'embeddingDim', embeddingDim);
    this.weight = parameter(normal_(zeros([numEmbeddings, embeddingDim]), 0, 1, opts.rng ?? globalRng));
  }
  /** The rows for `indices`, as [...indices' shape, embeddingDim]; ids outside the table throw. */
  forward(indices: Indices): Tensor {
    return embedding(this.weight, indices);
  }
}

/** `dropout` as a layer: active in training mode, the identity after `eval()`. */
export class Dropout extends Module {
  constructor(
    /** The probability of zeroing each element. */
    readonly p = 0.5,
    private readonly rng: Rng = globalRng,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be between 0 and 1, got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, rng: this.rng });
  }
}

/**
 * `rmsNorm` as a layer: each vector along the last dimension divided by its
 * root mean square (plus eps, default 1e-5), times a learned `weight`
 * initialised to ones, as PyTorch's `nn.RMSNorm(dim, eps)`.
 *
 * @example
 * ```ts
 * const norm = new RMSNorm(64);
 * const y = norm.forward(randn([8, 10, 64])); // each of the 80 rows now has an RMS of about 1
 * ```
 */
export class RMSNorm extends Module {
  /** The per-feature scale [dim], initialised to ones. */
  weight: Tensor;
  constructor(
    /** The size of the last dimension it normalises. */
    readonly dim: number,
    /** Added to the mean square before the root, against dividing by zero. */
    readonly eps = RMS_NORM_EPS,
  ) {
    super();
    checkPositiveInt('RMSNorm', 'dim', dim);
    this.weight = parameter(ones([dim]));
  }
  /** [..., dim] -> [..., dim]. */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

/** Modules applied in order; children are named '0', '1', ... as in PyTorch. */
export class Sequential extends Module {
  /** The modules, in the order they run. */
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }
  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }
}

/** `tanh` as a layer, for `Sequential`. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** `sigmoid` as a layer, for `Sequential`. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** `relu` as a layer, for `Sequential`. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/**
 * `gelu` (the tanh approximation, PyTorch's `nn.GELU(approximate='tanh')`) as a layer, for `Sequential`.
 *
 * @example
 * ```ts
 * const ffn = new Sequential(new Linear(64, 256), new GELU(), new Linear(256, 64));
 * ```
 */
export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return gelu(x);
  }
}

/** `softmax` as a layer, for `Sequential`. */
export class Softmax extends Module {
  constructor(
    /** The dimension that sums to 1 (default the last). */
    readonly dim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/** `logSoftmax` as a layer, for `Sequential`. */
export class LogSoftmax extends Module {
  constructor(
    /** The dimension to normalise over (default the last). */
    readonly dim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
}
