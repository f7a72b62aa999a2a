/** The basic layers: Linear, Embedding, Dropout, Sequential and activation modules. */
import { zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { globalRng, type Rng } from '../random/rng.js';
import { linear } from '../ops/linear.js';
import { embedding, type Indices } from '../ops/indexing.js';
import { dropout } from '../ops/dropout.js';
import { relu, sigmoid, tanh } from '../ops/unary.js';
import { softmax, logSoftmax } from '../ops/softmax.js';
import { Module, parameter } from './module.js';
import { normal_, uniform_ } from './init.js';

function checkPositiveInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${op}: ${name} must be a positive integer, got ${v}`);
}

export interface LinearOptions {
  bias?: boolean;
  rng?: Rng;
}

/** y = x Wᵀ + b, W [out, in] as in PyTorch, initialised U(-1/√in, 1/√in) like nn.Linear. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
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
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** A lookup table [num, dim], initialised N(0, 1) like nn.Embedding. */
export class Embedding extends Module {
  weight: Tensor;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: { rng?: Rng } = {},
  ) {
    super();
    checkPositiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    checkPositiveInt('Embedding', 'embeddingDim', embeddingDim);
    this.weight = parameter(normal_(zeros([numEmbeddings, embeddingDim]), 0, 1, opts.rng ?? globalRng));
  }
  forward(indices: Indices): Tensor {
    return embedding(this.weight, indices);
  }
}

export class Dropout extends Module {
  constructor(
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

/** Modules applied in order; children are named '0', '1', ... as in PyTorch. */
export class Sequential extends Module {
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

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

export class LogSoftmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
}
