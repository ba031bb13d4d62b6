/**
 * Neural-network building blocks: Module (named parameter trees, state dicts, train/eval), layers
 * and initialisers.
 * @example
 * const mlp = new nn.MLP([2, 32, 2], { activation: 'relu', seed: 1 });
 * const logits = mlp.forward(x); // [N, 2]
 */
export { Module, parameter, isParameter, copyInto, type StateDict, type LoadResult } from './module.ts';
export { Linear, LayerNorm, Dropout, DropPath, MLP, Sequential, type Layer, type Activation } from './layers.ts';
export {
  constant,
  zeros,
  ones,
  uniform,
  normal,
  truncNormal,
  xavierUniform,
  xavierNormal,
  kaimingUniform,
  kaimingNormal,
  calculateGain,
  fans,
  deriveSeed,
  type KaimingOptions,
  type SeedOption,
} from './init.ts';
export * as init from './init.ts';
