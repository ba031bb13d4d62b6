/**
 * truncatedNormal: samples of N(mean, std²) conditioned on [a, b] (absolute bounds, as PyTorch's
 * trunc_normal_), generated on the GPU by inverse CDF: uniforms from the seeded Philox generator
 * (`rand`, so a seed gives the same numbers everywhere and no seed uses the global generator), then
 * one in-place kernel (kernels/wgsl/truncnormal.wgsl.ts). The CPU twin is reference/truncnormal.ts.
 */
import type { Tensor } from '../tensor.ts';
import type { Shape } from '../shape.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d } from '../kernels/wgsl/common.ts';
import { truncNormalKernel } from '../kernels/wgsl/truncnormal.wgsl.ts';
import { truncatedNormalRange, type TruncatedNormalOptions } from '../reference/truncnormal.ts';
import { rand } from './creation.ts';
import { buf } from './run.ts';

const F32_MAX = 3.4028234663852886e38;

export type { TruncatedNormalOptions };

/**
 * Throws RangeError when std ≤ 0, a ≥ b or [a, b] holds no mass.
 * @example const w = truncatedNormal([768, 3072], { std: 0.02, seed: 1 }); // values in [−0.04, 0.04]
 */
export function truncatedNormal(shape: Shape, opts: TruncatedNormalOptions = {}): Tensor {
  const { mean, std, a, b, lo, hi } = truncatedNormalRange(opts);
  const out = rand(shape, { low: lo, high: hi, seed: opts.seed });
  if (out.size > 0) {
    const clampF32 = (v: number) => Math.max(-F32_MAX, Math.min(F32_MAX, v)); // no ±Inf in uniforms: fast-math
    const p = new Params().u32(out.size).f32(mean, std, clampF32(a), clampF32(b)).bytes();
    rt().dispatch(truncNormalKernel(), p, [buf('truncatedNormal', out)], grid1d(out.size));
  }
  return out;
}
