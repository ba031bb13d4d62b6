/**
 * Optimizers (fused WGSL kernels), global gradient clipping on the GPU and learning-rate schedules.
 * @example
 * const opt = new optim.AdamW(model.parameters(), { lr: 1e-3 });
 * opt.setLr(optim.warmupCosine(step, { warmup: 100, total: 1000, base: 1e-3 }));
 * optim.clipGradNorm(model.parameters(), 1.0).dispose();
 * opt.step(); opt.zeroGrad();
 */
export { Optimizer, type ParamGroup, type ParamGroupSpec, type ParamState, type OptimizerStateDict } from './optimizer.ts';
export { AdamW, type AdamWHyper } from './adamw.ts';
export { SGD, type SGDHyper } from './sgd.ts';
export { clipGradNorm, gradNorm } from './clip.ts';
export { linearWarmup, cosine, stepDecay, warmupCosine } from './schedules.ts';
