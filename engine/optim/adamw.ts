/**
 * AdamW (Loshchilov & Hutter), exactly PyTorch's torch.optim.AdamW update, fused kernels
 * (kernels/wgsl/adamw.wgsl.ts): by default multi-tensor (several parameters of a group per launch, as
 * many as the adapter's storage-buffer limit allows), or one launch per parameter with
 * `foreach: false` — bit for bit the same result. Parameters are updated in place (their `version`
 * bumps, so a graph that saved the old values refuses to backpropagate).
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
import { grid1d, gridRows, WG } from '../kernels/wgsl/common.ts';
import { adamwKernel, adamwMultiKernel, ADAMW_MAX_TENSORS } from '../kernels/wgsl/adamw.wgsl.ts';
import { buf } from '../ops/run.ts';
import { Optimizer, type ParamGroupSpec } from './optimizer.ts';

export interface AdamWHyper {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

export class AdamW extends Optimizer<AdamWHyper> {
  /** Multi-tensor launches (PyTorch's `foreach`); false: one launch per parameter. */
  readonly foreach: boolean;

  /**
   * @param params parameters, or groups `{ params, lr?, weightDecay?, betas?, eps? }`
   * @param opts defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2 (PyTorch's), foreach true
   */
  constructor(
    params: Tensor[] | ParamGroupSpec<AdamWHyper>[],
    { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 1e-2, foreach = true }: Partial<AdamWHyper> & { foreach?: boolean } = {},
  ) {
    super('AdamW', params, { lr, betas: [betas[0], betas[1]], eps, weightDecay });
    if (typeof foreach !== 'boolean') throw new EngineError(`AdamW: foreach must be true or false, got ${String(foreach)}`);
    this.foreach = foreach;
  }

  protected validate(g: AdamWHyper, i: number): void {
    const bad = (what: string) => {
      throw new EngineError(`AdamW: group ${i}: invalid ${what}`);
    };
    if (!(g.lr >= 0)) bad(`lr ${g.lr} (must be ≥ 0)`);
    if (!(g.eps >= 0)) bad(`eps ${g.eps} (must be ≥ 0)`);
    if (!(g.weightDecay >= 0)) bad(`weightDecay ${g.weightDecay} (must be ≥ 0)`);
    if (!Array.isArray(g.betas) || !(g.betas[0] >= 0 && g.betas[0] < 1 && g.betas[1] >= 0 && g.betas[1] < 1))
      bad(`betas ${JSON.stringify(g.betas)} (each in [0, 1))`);
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
      if (clip.norm.size !== 1 || clip.norm.dtype !== 'f32')
        throw new EngineError(
          `AdamW.step: clip.norm must be a one-element f32 tensor (from gradNorm), got ${clip.norm.dtype}${fmtShape(clip.norm.shape)}`,
        );
    }
    for (const g of this.paramGroups) {
      // Every gradient is checked before any parameter of the group changes.
      const todo = g.params.flatMap((p) => {
        const grad = this.gradOf(p);
        return grad ? [{ p, grad }] : [];
      });
      const [b1, b2] = g.betas;
      const items: Update[] = [];
      for (const { p, grad } of todo) {
        const s = this.stateOf(p, ['m', 'v']);
        s.step++;
        if (p.size === 0) continue;
        // Step-dependent scalars in f64, rounded once (see the kernel's header).
        const bc1 = 1 - b1 ** s.step,
          bc2 = 1 - b2 ** s.step;
        items.push({ p, grad, m: s.buffers.m, v: s.buffers.v, stepSize: g.lr / bc1, invSqrtBc2: 1 / Math.sqrt(bc2) });
      }
      if (this.foreach) this.launchMulti(g, items, clip);
      else this.launchEach(g, items, clip);
      for (const u of items) u.p.version++;
    }
  }

  /** One launch per parameter (kernels/wgsl/adamw.wgsl.ts: adamwKernel). */
  private launchEach(g: AdamWHyper, items: Update[], clip: Clip | undefined): void {
    const [b1, b2] = g.betas;
    for (const u of items) {
      const params = new Params()
        .u32(u.p.size)
        .f32(1 - g.lr * g.weightDecay, b1, 1 - b1, b2, 1 - b2, u.stepSize, u.invSqrtBc2, g.eps, clip?.maxNorm ?? 0)
        .bytes();
      const ins = clip ? [u.grad, clip.norm] : [u.grad];
      rt().dispatch(
        adamwKernel(!!clip),
        params,
        [...ins, u.p, u.m, u.v].map((t) => buf('AdamW', t)),
        grid1d(u.p.size),
      );
    }
  }

  /** ⌈items / perLaunch⌉ launches of the multi-tensor kernel (adamwMultiKernel). */
  private launchMulti(g: AdamWHyper, items: Update[], clip: Clip | undefined): void {
    const [b1, b2] = g.betas;
    const per = adamwTensorsPerLaunch(!!clip);
    for (let i = 0; i < items.length; i += per) {
      const batch = items.slice(i, i + per);
      let end = 0;
      const table = batch.flatMap((u) => [u.p.size, (end += Math.ceil(u.p.size / WG)), f32Bits(u.stepSize), f32Bits(u.invSqrtBc2)]);
      const params = new Params()
        .f32(1 - g.lr * g.weightDecay, b1, 1 - b1, b2, 1 - b2, g.eps, clip?.maxNorm ?? 0)
        .u32(0)
        .vec4Array(table, ADAMW_MAX_TENSORS)
        .bytes();
      const bufs = [...batch.map((u) => u.grad), ...(clip ? [clip.norm] : []), ...batch.flatMap((u) => [u.p, u.m, u.v])].map((t) =>
        buf('AdamW', t),
      );
      rt().dispatch(adamwMultiKernel(batch.length, !!clip), params, bufs, gridRows(end));
    }
  }
}

type Clip = { norm: Tensor; maxNorm: number };
type Update = { p: Tensor; grad: Tensor; m: Tensor; v: Tensor; stepSize: number; invSqrtBc2: number };

/** Parameters per multi-tensor launch: 4 storage buffers each (g, w, m, v), plus the norm with clip. */
export function adamwTensorsPerLaunch(clip: boolean): number {
  const limit = rt().limits.maxStorageBuffersPerShaderStage;
  return Math.max(1, Math.min(ADAMW_MAX_TENSORS, Math.floor((limit - (clip ? 1 : 0)) / 4)));
}

/** The bits of `x` rounded to f32, for a u32 table slot the kernel bitcasts back. */
function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}
