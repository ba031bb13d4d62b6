/// <reference types="@webgpu/types" preserve="true" />
/**
 * The engine: WebGPU device, tensors, hand-written WGSL kernels, autograd, nn and optim.
 * @example
 * const engine = await init();
 * const y = tensor([[1, 2], [3, 4]]).matmul(randn([2, 3], { seed: 1 })).gelu();
 * console.log(await y.data());
 * engine.dispose();
 */
import { Runtime, setRuntime, hasRuntime, rt, describeAdapter, type InitOptions } from './runtime.ts';

export type { InitOptions, AdapterInfoSummary, KernelSpec, LimitsChoice } from './runtime.ts';
export type { MemoryInfo } from './pool.ts';
export type { DType } from './dtype.ts';
export { requireF16 } from './dtype.ts';
export { Tensor, type TensorLike, type NestedArray } from './tensor.ts';
export { scope, keep } from './scope.ts';
export * from './errors.ts';
export { tensor, zeros, ones, full, zerosLike, onesLike, arange, rand, randn, randomBits, setSeed } from './ops/creation.ts';
export {
  neg,
  abs,
  sign,
  exp,
  log,
  sqrt,
  rsqrt,
  square,
  relu,
  sigmoid,
  tanh,
  gelu,
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  where,
  cast,
} from './ops/elementwise.ts';
export { sum, mean, max, min, variance, argmax, argmin, sumToShape } from './ops/reduce.ts';
export { softmax, logSoftmax } from './ops/softmax.ts';
export { reshape, permute, transpose, slice, concat, pad, broadcastTo, squeeze, expandDims, clone } from './ops/movement.ts';
export { gather, scatterAdd } from './ops/gather.ts';
export { matmul, type MatmulOptions } from './ops/matmul.ts';
export { layerNorm } from './ops/layernorm.ts';
export { attention, attentionHeads, chooseAttentionVariant, type AttentionOptions } from './ops/attention.ts';
export {
  boxCxcywhToXyxy,
  boxXyxyToCxcywh,
  boxIou,
  generalizedBoxIou,
  elementwiseGiou,
  elementwiseIou,
  setValidation,
  validationEnabled,
} from './ops/box.ts';
export { crossEntropy, type CrossEntropyOptions } from './ops/cross-entropy.ts';
export { noGrad, isGradEnabled, needsGrad } from './autograd/node.ts';
export { backward, grad, valueAndGrad, gradients } from './autograd/backward.ts';
export { checkpoint } from './autograd/checkpoint.ts';
export * as nn from './nn/index.ts';
export * as optim from './optim/index.ts';
export { launch, assertCode, Params, grid1d, gridRows, WG, type LaunchGrid } from './launch.ts';
export * as wgsl from './wgsl-snippets.ts';

export type Engine = Runtime;

/**
 * Initialises the engine on a WebGPU adapter (see InitOptions) and returns it. Calling it again
 * returns the running engine unless it was disposed.
 */
export async function init(options: InitOptions = {}): Promise<Engine> {
  if (hasRuntime()) {
    const r = rt();
    try {
      r.checkLost();
      return r;
    } catch {
      setRuntime(null);
    }
  }
  const r = await Runtime.create(options);
  setRuntime(r);
  const dispose = r.dispose.bind(r);
  r.dispose = () => {
    dispose();
    setRuntime(null);
  };
  return r;
}

/** The running engine (throws if `init()` was not awaited). */
export function engine(): Engine {
  return rt();
}

/** One line naming the engine's adapter, its source and its features. */
export function describeAdapterOf(e: Engine): string {
  return describeAdapter(e.adapter);
}
