/**
 * Layers: Linear, LayerNorm, Dropout, DropPath, MLP, Sequential. Each `forward` disposes the
 * intermediates it makes (autograd keeps what backward needs), so a forward outside `scope` leaks
 * nothing but its result.
 */
import type { Tensor } from '../tensor.ts';
import { EngineError, ShapeError, fmtShape } from '../errors.ts';
import { noGrad } from '../autograd/node.ts';
import { zeros, ones, rand } from '../ops/creation.ts';
import { reshape } from '../ops/movement.ts';
import { Module, parameter } from './module.ts';
import { deriveSeed, kaimingUniform, uniform } from './init.ts';

/** A module with a one-tensor forward (what Sequential chains). */
export interface Layer extends Module {
  forward(x: Tensor): Tensor;
}

function checkLastDim(op: string, x: Tensor, d: number): void {
  if (x.rank < 1 || x.shape[x.rank - 1] !== d) throw new ShapeError(`${op}: expected an input [..., ${d}], got ${fmtShape(x.shape)}`);
}

/** Disposes `t` unless it is one of `keep` (a layer may return its input). */
function drop(t: Tensor, ...keep: Tensor[]): void {
  if (!keep.includes(t)) t.dispose();
}

/**
 * y = x·Wᵀ + b with W of shape [out, in] (PyTorch's layout). Initialised like PyTorch:
 * W, b ~ U(±1/√in).
 * @example const fc = new Linear(768, 3072, { seed: 1 }); const y = fc.forward(x); // [..., 768] → [..., 3072]
 */
export class Linear extends Module implements Layer {
  weight: Tensor;
  bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true, seed }: { bias?: boolean; seed?: number } = {},
  ) {
    super();
    if (!Number.isInteger(inFeatures) || !Number.isInteger(outFeatures) || inFeatures < 1 || outFeatures < 1) {
      throw new ShapeError(`Linear: features must be positive integers, got in=${inFeatures}, out=${outFeatures}`);
    }
    this.weight = parameter(kaimingUniform(zeros([outFeatures, inFeatures]), { seed: deriveSeed(seed, 0) }));
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias = bias ? parameter(uniform(zeros([outFeatures]), { low: -bound, high: bound, seed: deriveSeed(seed, 1) })) : null;
  }

  forward(x: Tensor): Tensor {
    checkLastDim(`Linear(in=${this.inFeatures}, out=${this.outFeatures})`, x, this.inFeatures);
    const y = x.matmul(this.weight, { transposeB: true }); // [..., out]
    if (!this.bias) return y;
    const out = y.add(this.bias);
    y.dispose();
    return out;
  }
}

/** Layer normalisation over the last dimension, with a learned scale (ones) and shift (zeros). */
export class LayerNorm extends Module implements Layer {
  weight: Tensor;
  bias: Tensor;
  readonly eps: number;

  constructor(
    readonly dim: number,
    { eps = 1e-5 }: { eps?: number } = {},
  ) {
    super();
    if (!Number.isInteger(dim) || dim < 1) throw new ShapeError(`LayerNorm: dim must be a positive integer, got ${dim}`);
    this.eps = eps;
    this.weight = parameter(ones([dim]));
    this.bias = parameter(zeros([dim]));
  }

  forward(x: Tensor): Tensor {
    checkLastDim(`LayerNorm(${this.dim})`, x, this.dim);
    return x.layerNorm(this.weight, this.bias, this.eps);
  }
}

function checkP(op: string, p: number): void {
  if (!(p >= 0 && p < 1)) throw new RangeError(`${op}: p must be in [0, 1), got ${p}`);
}

/**
 * Shared by Dropout and DropPath: in training with p > 0, x · mask / (1 − p) where mask ∈ {0, 1}
 * has shape `maskShape` (broadcast over x) and P(1) = 1 − p; otherwise the identity (a new handle).
 * The mask is made on the GPU from the Philox generator: with a seed, call k of this module uses
 * the derived seed (seed, k), so successive calls differ and the same seed replays them; without
 * one, the global generator (reproducible after `setSeed`).
 */
abstract class RandomMask extends Module {
  /** Forward calls made in training mode (the stream of the next mask). */
  calls = 0;

  constructor(
    readonly p: number,
    readonly seed?: number,
  ) {
    super();
  }

  protected apply(x: Tensor, maskShape: number[]): Tensor {
    if (!this.training || this.p === 0) return reshape(x, [...x.shape]);
    const seed = deriveSeed(this.seed, this.calls++);
    const scaled = noGrad(() => {
      const u = rand(maskShape, { seed });
      const keepMask = u.ge(this.p); // P(u ≥ p) = 1 − p (u is a multiple of 2⁻²⁴)
      u.dispose();
      const s = keepMask.mul(1 / (1 - this.p));
      keepMask.dispose();
      return s;
    });
    const out = x.mul(scaled);
    scaled.dispose();
    return out;
  }
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1 − p) (training mode only).
 * @example const drop = new Dropout(0.1, { seed: 7 }); const y = drop.forward(x);
 */
export class Dropout extends RandomMask implements Layer {
  constructor(p: number, { seed }: { seed?: number } = {}) {
    checkP('Dropout', p);
    super(p, seed);
  }

  forward(x: Tensor): Tensor {
    return this.apply(x, [...x.shape]);
  }
}

/**
 * Stochastic depth: drops whole samples (one mask value per index of the first, batch, dimension)
 * with probability p and scales the kept ones by 1/(1 − p) (training mode only). Used on a residual
 * branch: `x = x + dropPath(attn(x))`.
 */
export class DropPath extends RandomMask implements Layer {
  constructor(p: number, { seed }: { seed?: number } = {}) {
    checkP('DropPath', p);
    super(p, seed);
  }

  forward(x: Tensor): Tensor {
    if (x.rank < 1) throw new ShapeError(`DropPath: expected a batched input [B, ...], got ${fmtShape(x.shape)}`);
    return this.apply(x, [x.shape[0], ...x.shape.slice(1).map(() => 1)]);
  }
}

export type Activation = 'gelu' | 'relu';

function activate(x: Tensor, a: Activation): Tensor {
  return a === 'gelu' ? x.gelu() : x.relu();
}

/**
 * Linear layers dims[0] → dims[1] → … → dims[n], with `activation` between them (and after the last
 * one when `finalActivation`). Parameters: layers.0.weight, layers.0.bias, layers.1.weight, …
 * @example const mlp = new MLP([2, 32, 32, 2], { activation: 'gelu', seed: 1 });
 */
export class MLP extends Module implements Layer {
  layers: Linear[];
  readonly activation: Activation;
  readonly finalActivation: boolean;

  constructor(
    dims: number[],
    {
      activation = 'gelu',
      finalActivation = false,
      bias = true,
      seed,
    }: { activation?: Activation; finalActivation?: boolean; bias?: boolean; seed?: number } = {},
  ) {
    super();
    if (dims.length < 2) throw new ShapeError(`MLP: dims needs at least an input and an output size, got [${dims.join(', ')}]`);
    if (activation !== 'gelu' && activation !== 'relu') throw new EngineError(`MLP: unknown activation '${activation}' (gelu or relu)`);
    this.activation = activation;
    this.finalActivation = finalActivation;
    this.layers = dims.slice(1).map((d, i) => new Linear(dims[i], d, { bias, seed: deriveSeed(seed, i) }));
  }

  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((layer, i) => {
      const y = layer.forward(h); // [..., dims[i + 1]]
      if (h !== x) h.dispose();
      h = y;
      if (i < this.layers.length - 1 || this.finalActivation) {
        const a = activate(h, this.activation);
        h.dispose();
        h = a;
      }
    });
    return h;
  }
}

/**
 * Applies modules in order; parameters are named by position (`0.weight`, `1.bias`, …), as in
 * PyTorch's nn.Sequential.
 * @example const net = new Sequential(new Linear(4, 8), new Dropout(0.1), new Linear(8, 2));
 */
export class Sequential extends Module implements Layer {
  #modules: Layer[];

  constructor(...modules: Layer[]) {
    super();
    modules.forEach((m, i) => this.registerModule(String(i), m));
    this.#modules = modules;
  }

  /** The i-th module. */
  at(i: number): Layer {
    return this.#modules[i];
  }

  get length(): number {
    return this.#modules.length;
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.#modules) {
      const y = m.forward(h);
      if (h !== x) drop(h, y);
      h = y;
    }
    return h;
  }
}
