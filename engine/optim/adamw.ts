/**
 * AdamW (Loshchilov & Hutter), exactly PyTorch's torch.optim.AdamW update, one fused kernel per
 * parameter (kernels/wgsl/adamw.wgsl.ts). Parameters are updated in place (their `version` bumps, so
 * a graph that saved the old values refuses to backpropagate).
 * @example
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 * scope(() => { loss(model).backward(); });
 * opt.step(); opt.zeroGrad();
 */
import type { Tensor } from '../tensor.ts';
import { EngineError, fmtShape } from '../errors.ts';
import { checkMaxNorm } from './clip.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d } from '../kernels/wgsl/common.ts';
import { adamwKernel } from '../kernels/wgsl/adamw.wgsl.ts';
import { buf } from '../ops/run.ts';
import { Optimizer, type ParamGroupSpec } from './optimizer.ts';

export interface AdamWHyper {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

export class AdamW extends Optimizer<AdamWHyper> {
  /**
   * @param params parameters, or groups `{ params, lr?, weightDecay?, betas?, eps? }`
   * @param opts defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2 (PyTorch's)
   */
  constructor(params: Tensor[] | ParamGroupSpec<AdamWHyper>[], { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 1e-2 }: Partial<AdamWHyper> = {}) {
    super('AdamW', params, { lr, betas: [betas[0], betas[1]], eps, weightDecay });
  }

  protected validate(g: AdamWHyper, i: number): void {
    const bad = (what: string) => { throw new EngineError(`AdamW: group ${i}: invalid ${what}`); };
    if (!(g.lr >= 0)) bad(`lr ${g.lr} (must be ≥ 0)`);
    if (!(g.eps >= 0)) bad(`eps ${g.eps} (must be ≥ 0)`);
    if (!(g.weightDecay >= 0)) bad(`weightDecay ${g.weightDecay} (must be ≥ 0)`);
    if (!Array.isArray(g.betas) || !(g.betas[0] >= 0 && g.betas[0] < 1 && g.betas[1] >= 0 && g.betas[1] < 1)) bad(`betas ${JSON.stringify(g.betas)} (each in [0, 1))`);
  }

  /**
   * One update of every parameter that has a gradient. With `clip`, each gradient is scaled by
   * clip_grad_norm_'s coefficient min(1, maxNorm / (norm + 1e-6)) as it is read (norm from
   * `gradNorm(params)`, still on the GPU): the same parameters, bit for bit, as clipGradNorm then
   * step(), without rewriting the gradients (`.grad` keeps the unclipped values).
   */
  step(opts: { clip?: { norm: Tensor; maxNorm: number } } = {}): void {
    const clip = opts.clip;
    if (clip) {
      checkMaxNorm('AdamW.step', clip.maxNorm);
      if (clip.norm.size !== 1 || clip.norm.dtype !== 'f32') throw new EngineError(`AdamW.step: clip.norm must be a one-element f32 tensor (from gradNorm), got ${clip.norm.dtype}${fmtShape(clip.norm.shape)}`);
    }
    for (const g of this.paramGroups) {
      const [b1, b2] = g.betas;
      for (const p of g.params) {
        const grad = this.gradOf(p);
        if (!grad) continue;
        const s = this.stateOf(p, ['m', 'v']);
        s.step++;
        if (p.size === 0) continue;
        // Step-dependent scalars in f64, rounded once (see the kernel's header).
        const bc1 = 1 - b1 ** s.step, bc2 = 1 - b2 ** s.step;
        const params = new Params().u32(p.size).f32(1 - g.lr * g.weightDecay, b1, 1 - b1, b2, 1 - b2, g.lr / bc1, 1 / Math.sqrt(bc2), g.eps, clip?.maxNorm ?? 0).bytes();
        const ins = clip ? [grad, clip.norm] : [grad];
        rt().dispatch(adamwKernel(!!clip), params, [...ins, p, s.buffers.m, s.buffers.v].map((t) => buf('AdamW', t)), grid1d(p.size));
        p.version++;
      }
    }
  }
}
