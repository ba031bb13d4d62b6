/**
 * Initialisers: each fills an existing f32 tensor (a parameter) in place, on the GPU, and returns it.
 * Values come from the Philox generator: with `seed` the same numbers on every run and adapter;
 * without it, from the global generator (reproducible after `setSeed`). The new values are made in
 * a temporary tensor and copied into the target's storage, so optimizers holding it stay valid.
 *
 * Fans follow PyTorch's _calculate_fan_in_and_fan_out: for a weight [out, in, ...k],
 * fanIn = in·∏k and fanOut = out·∏k.
 */
import type { Tensor } from '../tensor.ts';
import { DTypeError, ShapeError, fmtShape } from '../errors.ts';
import { noGrad } from '../autograd/node.ts';
import { full, rand, randn } from '../ops/creation.ts';
import { truncatedNormal } from '../ops/truncnormal.ts';
import { copyInto } from './module.ts';

export interface SeedOption {
  /** Same seed → same values; omitted: the global generator. */
  seed?: number;
}

function fill(op: string, t: Tensor, make: () => Tensor): Tensor {
  t.storageFor(op);
  if (t.dtype !== 'f32') throw new DTypeError(`${op}: expected an f32 tensor, got ${t.dtype}${fmtShape(t.shape)}`);
  noGrad(() => {
    const src = make();
    copyInto(t, src);
    src.dispose();
  });
  return t;
}

/**
 * A derived seed for stream `k` of `seed` (per layer, per call): a 53-bit mix, so nearby seeds and
 * streams give unrelated Philox keys. `undefined` stays undefined (the global generator).
 */
export function deriveSeed(seed: number | undefined, ...k: number[]): number | undefined {
  if (seed === undefined) return undefined;
  let lo = seed >>> 0,
    hi = Math.floor(seed / 2 ** 32) >>> 0;
  for (const x of k) {
    lo = mix32(lo ^ Math.imul(x + 1, 0x9e3779b9) ^ hi);
    hi = mix32(hi + 0x85ebca6b + lo);
  }
  return (hi & 0x1fffff) * 2 ** 32 + lo;
}

function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** PyTorch's fan-in and fan-out of a weight of shape [out, in, ...kernel]. */
export function fans(op: string, shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2)
    throw new ShapeError(`${op}: fan-in and fan-out need a tensor of rank ≥ 2, got ${fmtShape(shape)} (pass fanIn for a bias)`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'gelu', param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
    case 'gelu':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const a = param ?? 0.01;
      return Math.sqrt(2 / (1 + a * a));
    }
  }
}

/** t ← value. */
export function constant(t: Tensor, value: number): Tensor {
  return fill('constant', t, () => full(t.shape, value));
}
/** t ← 0. */
export const zeros = (t: Tensor): Tensor => constant(t, 0);
/** t ← 1. */
export const ones = (t: Tensor): Tensor => constant(t, 1);

/** t ~ U[low, high). @example uniform(bias, { low: -0.1, high: 0.1, seed: 3 }) */
export function uniform(t: Tensor, { low = 0, high = 1, seed }: { low?: number; high?: number } & SeedOption = {}): Tensor {
  return fill('uniform', t, () => rand(t.shape, { low, high, seed }));
}

/** t ~ N(mean, std²). @example normal(w, { std: 0.02, seed: 1 }) */
export function normal(t: Tensor, { mean = 0, std = 1, seed }: { mean?: number; std?: number } & SeedOption = {}): Tensor {
  return fill('normal', t, () => randn(t.shape, { mean, std, seed }));
}

/**
 * t ~ N(mean, std²) truncated to [a, b] — absolute bounds, as in PyTorch's trunc_normal_ — by
 * inverse CDF on the GPU (ops/truncnormal.ts). Defaults: std 0.02, [a, b] = mean ± 2·std (the
 * ViT/DeiT intent; PyTorch's own defaults a = −2, b = 2 barely truncate a std of 0.02 — pass them
 * explicitly to reproduce that).
 * @example truncNormal(w, { std: 0.02, seed: 1 }) // every value in [−0.04, 0.04]
 */
export function truncNormal(
  t: Tensor,
  { mean = 0, std = 0.02, a, b, seed }: { mean?: number; std?: number; a?: number; b?: number } & SeedOption = {},
): Tensor {
  return fill('truncNormal', t, () => truncatedNormal(t.shape, { mean, std, a: a ?? mean - 2 * std, b: b ?? mean + 2 * std, seed }));
}

/** Glorot uniform: U(±gain·√(6 / (fanIn + fanOut))). */
export function xavierUniform(t: Tensor, { gain = 1, seed }: { gain?: number } & SeedOption = {}): Tensor {
  const { fanIn, fanOut } = fans('xavierUniform', t.shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, { low: -bound, high: bound, seed });
}

/** Glorot normal: N(0, gain²·2 / (fanIn + fanOut)). */
export function xavierNormal(t: Tensor, { gain = 1, seed }: { gain?: number } & SeedOption = {}): Tensor {
  const { fanIn, fanOut } = fans('xavierNormal', t.shape);
  return normal(t, { std: gain * Math.sqrt(2 / (fanIn + fanOut)), seed });
}

export interface KaimingOptions extends SeedOption {
  /** Negative slope of the leaky ReLU after this layer; default √5, PyTorch's Linear/Conv default. */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: 'leakyRelu' | 'relu' | 'linear' | 'tanh' | 'sigmoid' | 'gelu';
  /** Explicit fan (e.g. a bias, which has no fan of its own). */
  fan?: number;
}

function kaimingStd(op: string, t: Tensor, o: KaimingOptions): number {
  const fan = o.fan ?? fans(op, t.shape)[o.mode === 'fanOut' ? 'fanOut' : 'fanIn'];
  const gain = calculateGain(o.nonlinearity ?? 'leakyRelu', o.a ?? Math.sqrt(5));
  return gain / Math.sqrt(fan);
}

/**
 * He uniform: U(±gain·√(3 / fan)). With the defaults (a = √5, leaky ReLU, fan-in) the bound is
 * 1/√fanIn: PyTorch's default init of Linear weights (and, with `fan`, of their biases).
 * @example kaimingUniform(linear.weight, { seed: 1 }) // U(±1/√in)
 */
export function kaimingUniform(t: Tensor, o: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform', t, o);
  return uniform(t, { low: -bound, high: bound, seed: o.seed });
}

/** He normal: N(0, gain² / fan). */
export function kaimingNormal(t: Tensor, o: KaimingOptions = {}): Tensor {
  return normal(t, { std: kaimingStd('kaimingNormal', t, o), seed: o.seed });
}
